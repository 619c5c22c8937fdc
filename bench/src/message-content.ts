// What the bench's users say: distinct for every run, phase, user and turn, so no reply comes from the
// response cache or an identical request in flight.

export function benchMessage(phase: string, runId: string, user: number, turn: number): string {
  return `${phase} ${runId} user ${user} turn ${turn}: tell me something about the number ${user * 1000 + turn}.`;
}

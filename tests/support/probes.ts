// What the tests read off a running stack besides replies: a process's gauge, the simulator's
// request log, a session's stored history, and one polling loop for "until this holds".
import { http } from './chat-client.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Calls `probe` every `everyMs` until it returns something other than undefined or false, and
 * returns that; throws after `ms`, naming `what`.
 */
export async function waitUntil<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, ms: number, what: string, everyMs = 100): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const last = await probe();
    if (last !== undefined && last !== false) return last;
    if (performance.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A gauge or counter's value in a process's /metrics (0 when absent). */
export async function gauge(url: string, name: string): Promise<number> {
  const text = (await http(url, 'GET', '/metrics')).text;
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

export interface SimRequest {
  at: string;
  model: string;
  stream?: boolean;
  messages: Array<{ role: string; content: string }>;
}

/** The simulator's request log (every model call of the stack). */
export async function simRequests(stack: { sim?: { url: string } | undefined }, limit = 10_000): Promise<SimRequest[]> {
  return (await http<SimRequest[]>(stack.sim!.url, 'GET', `/_sim/requests?limit=${limit}`)).json;
}

export interface StoredMessage {
  id: string;
  role: string;
  content: string;
  status?: string;
}

/** A session's stored history as GET /chat/session/:id answers it. */
export async function history(base: string, session: { sessionId: string; token: string }): Promise<StoredMessage[]> {
  const r = await http<{ messages: StoredMessage[] }>(base, 'GET', `/chat/session/${session.sessionId}`, { token: session.token });
  if (r.status !== 200) throw new Error(`GET /chat/session answered ${r.status}: ${r.text}`);
  return r.json.messages;
}

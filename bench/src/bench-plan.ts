// The order of a bench's measured runs. With a baseline, each configuration (level, reply length)
// runs on the baseline and then on the new build back to back, and the whole round repeats, so a
// slow drift of the shared machine lands on both builds alike and cancels in their ratio.

export type Build = 'baseline' | 'new';

/** A load level: users at a think time; `paced` is the realistic-pace level (20–30 s think). */
export interface Level {
  readonly users: number;
  readonly paced: boolean;
}

export interface PlannedRun {
  /** 1-based position in the run order. */
  readonly index: number;
  readonly build: Build;
  readonly level: Level;
  readonly replyTokens: number;
  /** 1-based repetition. */
  readonly repetition: number;
  /** The first run of this build: its fresh gateways measure idle memory before any load. */
  readonly firstOfBuild: boolean;
  /** The first run of this level: the floor (the model alone) at this level is measured before it. */
  readonly firstOfLevel: boolean;
  /** The first run of this build at this level and the primary length: the Redis command census follows it. */
  readonly census: boolean;
}

export interface PlanInput {
  /** Closed-loop levels (3–6 s think by default), in order. */
  readonly users: readonly number[];
  /** Users of the paced level; 0 for none. Paced runs use the primary reply length only. */
  readonly paced: number;
  /** The primary reply length first; a second one runs every non-paced level again for the cost split. */
  readonly replyTokens: readonly number[];
  readonly builds: readonly Build[];
  readonly repeat: number;
}

export const levelKey = (l: Level): string => (l.paced ? `paced-${l.users}` : `${l.users}`);

/** Every measured run in order: repetition, then level, then reply length, then build (baseline first). */
export function planRuns(p: PlanInput): PlannedRun[] {
  if (p.builds.length === 0) throw new Error('planRuns: no build to measure');
  if (p.replyTokens.length === 0) throw new Error('planRuns: no reply length');
  const [primary] = p.replyTokens;
  const levels: Level[] = [...p.users.map((users) => ({ users, paced: false })), ...(p.paced > 0 ? [{ users: p.paced, paced: true }] : [])];
  const runs: PlannedRun[] = [];
  const seenBuilds = new Set<string>();
  const seenLevels = new Set<string>();
  const censused = new Set<string>();
  for (let repetition = 1; repetition <= p.repeat; repetition++) {
    for (const level of levels) {
      const lengths = level.paced ? [primary ?? 0] : p.replyTokens;
      for (const replyTokens of lengths) {
        for (const build of p.builds) {
          const key = levelKey(level);
          const censusKey = `${build}/${key}`;
          const census = !level.paced && replyTokens === primary && !censused.has(censusKey);
          if (census) censused.add(censusKey);
          runs.push({
            index: runs.length + 1,
            build,
            level,
            replyTokens,
            repetition,
            firstOfBuild: !seenBuilds.has(build),
            firstOfLevel: !seenLevels.has(key),
            census,
          });
          seenBuilds.add(build);
          seenLevels.add(key);
        }
      }
    }
  }
  return runs;
}

/** One line per run, for the console before the bench starts. */
export function describePlan(runs: readonly PlannedRun[]): string {
  return runs
    .map((r) => `${r.index}. ${r.build} ${r.level.users} users${r.level.paced ? ' paced' : ''}, ${r.replyTokens} tokens, repetition ${r.repetition}`)
    .join('\n');
}

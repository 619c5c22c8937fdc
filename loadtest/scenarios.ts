// The load scenarios, in one place for the k6 scripts (k6/*.ts import this file) and the local
// runner (`npm run loadtest`, via @chat-fleet/loadtest). No imports: k6 and Node both load it as is.

export interface ThinkTime {
  /** Pause between the end of a reply and the user's next message, uniform in [min, max] ms. */
  minMs: number;
  maxMs: number;
}

export interface LevelScenario {
  /** Row label of the load table. */
  label: string;
  description: string;
  /** Concurrent users, each with its own session, userId and WebSocket. */
  users: number;
  /** Messages are sent for this long; replies in flight at the end are awaited. */
  durationS: number;
  /** Users start spread evenly over this many seconds. */
  rampS: number;
  think: ThinkTime;
  /**
   * A user opens a new session (a new conversation) after this many turns. Long runs need it: the
   * history, and so each prompt, grows every turn, and RATE_LIMIT_USER_TOKENS_PER_MIN (40,000)
   * counts prompt tokens too. Absent: one session for the whole level.
   */
  turnsPerSession?: number;
}

export interface StressScenario {
  description: string;
  /** User counts held one after another; the knee is the last step whose replies are all whole. */
  steps: number[];
  /** Ramp from one step to the next. */
  rampS: number;
  /** Hold of each step. */
  holdS: number;
  think: ThinkTime;
}

/**
 * A user of these levels sends a message, reads the streamed reply, thinks 3–6 s and sends the
 * next: about 10 messages a minute, well inside RATE_LIMIT_USER_PER_MIN (60).
 */
export const CHAT_THINK: ThinkTime = { minMs: 3000, maxMs: 6000 };

/** A realistic pace for many idle-ish sessions: one message every 20–30 s. */
export const SLOW_THINK: ThinkTime = { minMs: 20_000, maxMs: 30_000 };

export const LEVELS = {
  smoke: { label: 'smoke', description: 'a few users, a few turns: is the stack answering whole replies?', users: 5, durationS: 10, rampS: 1, think: { minMs: 500, maxMs: 1500 } },
  l10: { label: '10 users', description: 'level 1 of the old table', users: 10, durationS: 30, rampS: 2, think: CHAT_THINK },
  l100: { label: '100 users', description: 'level 2 of the old table', users: 100, durationS: 60, rampS: 5, think: CHAT_THINK },
  l500: { label: '500 users', description: 'level 3 of the old table', users: 500, durationS: 120, rampS: 10, think: CHAT_THINK },
  l1000: { label: '1000 users', description: 'level 4 of the old table (the old system: 60% success, 30 s average)', users: 1000, durationS: 180, rampS: 15, think: CHAT_THINK },
  l10k: { label: '10,000 sessions', description: '10,000 sessions connected, each chatting every 20–30 s', users: 10_000, durationS: 180, rampS: 60, think: SLOW_THINK },
  soak: { label: 'soak', description: 'steady load for hours: leaks, expiry, reconnects', users: 300, durationS: 4 * 3600, rampS: 30, think: { minMs: 5000, maxMs: 15_000 }, turnsPerSession: 20 },
} as const satisfies Record<string, LevelScenario>;

export type LevelName = keyof typeof LEVELS;

/** The four levels of the old table, in order. */
export const TABLE_LEVELS: readonly LevelName[] = ['l10', 'l100', 'l500', 'l1000'];

export const STRESS: StressScenario = {
  description: 'more users step by step until replies stop arriving whole; reports the knee',
  steps: [100, 250, 500, 1000, 2000, 3000, 5000, 8000],
  rampS: 15,
  holdS: 60,
  think: CHAT_THINK,
};

/** The goals, as the thresholds of the k6 scripts and the runner's verdict. */
export const GOALS = {
  /** Every reply whole (100.00%). */
  wholeReplyRate: 1,
  /** First-token time the fleet may add to the model's own (send → first token minus the model's TTFT). */
  firstTokenOverheadP95Ms: 10,
  firstTokenOverheadP99Ms: 50,
  /** The simulator's default first-token latency (SIM_TTFT_MS), the model's own TTFT when it runs. */
  simTtftMs: 150,
} as const;

export function isLevelName(name: string): name is LevelName {
  return Object.prototype.hasOwnProperty.call(LEVELS, name);
}

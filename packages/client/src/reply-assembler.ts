// The whole-reply rule, in one place for every client of the fleet (the SDK's socket, the web page,
// the load runner, the tests and the k6 scripts): a reply's text is its token frames of the latest
// attempt, each `seq` once and in order from 1; a `reset` starts the next attempt from nothing; the
// reply is whole when `done` names the last seq applied. A seq seen before is dropped (never shown
// twice); a seq past the next one is a gap, not applied, and the reader resumes after `lastSeq`.
// A reply's tool calls, tool results and sources are not part of it: they have no seq.
// Import-free at run time (type imports only), so k6 loads this file as it is.
import type { DoneFrame, ErrorFrame, FinishReason, ResetFrame, SourcesFrame, TokenFrame, ToolCallFrame, ToolResultFrame, Usage } from '@chat-fleet/protocol';

/** The types of a reply's frames that are events beside its text (no `seq`, sent again on resume). */
export const REPLY_EVENT_TYPES: ReadonlySet<string> = new Set<(ToolCallFrame | ToolResultFrame | SourcesFrame)['type']>(['tool_call', 'tool_result', 'sources']);

/** The frames of one reply, as the gateway relays them. */
export type ReplyFrameLike =
  | Pick<TokenFrame, 'type' | 'seq' | 'text'>
  | Pick<ResetFrame, 'type' | 'attempt'>
  | Pick<DoneFrame, 'type' | 'seq' | 'finishReason' | 'cached' | 'usage' | 'coalesced'>
  | Pick<ErrorFrame, 'type' | 'code' | 'message' | 'retryAfterMs'>;

/**
 * What one frame did: `token` appended; `duplicate` dropped (seen before); `gap` not applied, frames
 * are missing (resume after `lastSeq`); `reset` the next attempt began; `stale` a reset of an older
 * attempt, ignored; `done` the reply ended whole; `early` a `done` past the last token (frames are
 * missing: resume after `lastSeq`); `error` the reply ended in error; `after` a frame after the end.
 */
export type AssembleStep = 'token' | 'duplicate' | 'gap' | 'reset' | 'stale' | 'done' | 'early' | 'error' | 'after';

export type ReplyPhase = 'waiting' | 'streaming' | 'done' | 'error';

export interface AssemblerOptions {
  /** Keep the text (default); a load runner that only judges wholeness skips the concatenation. */
  keepText?: boolean;
}

export class ReplyAssembler {
  /** The attempt the frames belong to; a `reset` starts the next. */
  attempt = 1;
  /** The last seq applied in this attempt: what a `resume` continues after. */
  lastSeq = 0;
  text = '';
  phase: ReplyPhase = 'waiting';
  finishReason: FinishReason | undefined;
  usage: Usage | undefined;
  cached = false;
  coalesced = false;
  /** The error that ended the reply. */
  error: Pick<ErrorFrame, 'code' | 'message' | 'retryAfterMs'> | undefined;
  /** Frames dropped as seen before, over every attempt (a healthy stream sends each seq once). */
  duplicates = 0;
  /** Frames that arrived past a gap, over every attempt. */
  gaps = 0;
  /** The seq the `done` frame named. */
  doneSeq: number | undefined;
  private readonly keepText: boolean;

  constructor(options: AssemblerOptions = {}) {
    this.keepText = options.keepText !== false;
  }

  get finished(): boolean {
    return this.phase === 'done' || this.phase === 'error';
  }

  apply(frame: ReplyFrameLike): AssembleStep {
    if (this.finished) return 'after';
    switch (frame.type) {
      case 'token':
        if (frame.seq <= this.lastSeq) {
          this.duplicates++;
          return 'duplicate';
        }
        if (frame.seq > this.lastSeq + 1) {
          this.gaps++;
          return 'gap';
        }
        this.lastSeq = frame.seq;
        if (this.keepText) this.text += frame.text;
        this.phase = 'streaming';
        return 'token';
      case 'reset':
        if (frame.attempt < this.attempt) return 'stale';
        this.attempt = frame.attempt;
        this.lastSeq = 0;
        this.text = '';
        this.phase = 'waiting';
        return 'reset';
      case 'done':
        if (frame.seq > this.lastSeq) return 'early';
        this.phase = 'done';
        this.doneSeq = frame.seq;
        this.finishReason = frame.finishReason;
        this.usage = frame.usage;
        this.cached = frame.cached;
        this.coalesced = frame.coalesced === true;
        return 'done';
      case 'error':
        this.phase = 'error';
        this.error = { code: frame.code, message: frame.message, retryAfterMs: frame.retryAfterMs };
        return 'error';
    }
  }

  /**
   * Why the reply is not whole, or undefined when it is: ended with `done`, each seq 1..n of the
   * last attempt once, no gap left. A reader that judges the server (tests, load runs) also counts
   * `duplicates` and `gaps`, which a healthy stream never has.
   */
  get problem(): string | undefined {
    if (this.phase === 'error') return `ended in error ${this.error?.code ?? ''}`.trim();
    if (this.phase !== 'done') return `no done after seq ${this.lastSeq} of attempt ${this.attempt}`;
    if (this.doneSeq !== this.lastSeq) return `done names seq ${this.doneSeq ?? '?'}, but the last token was ${this.lastSeq}`;
    return undefined;
  }
}

function isEvent(frame: { type: string }): frame is Pick<ToolCallFrame | ToolResultFrame | SourcesFrame, 'type'> {
  return REPLY_EVENT_TYPES.has(frame.type);
}

/** A reply assembled from the frames one reader recorded (it could not resume): what it saw. */
export interface RecordedReply {
  readonly text: string;
  /** The seqs applied, in order, of the last attempt. */
  readonly seqs: number[];
  readonly attempt: number;
  readonly phase: ReplyPhase;
  readonly finishReason: FinishReason | undefined;
  /** Whole: done, every seq 1..n once, and no frame dropped as a duplicate or past a gap. */
  readonly whole: boolean;
  readonly duplicates: number;
  readonly gaps: number;
  readonly problem: string | undefined;
}

/**
 * Replays recorded frames of one reply through the rule. Frames of other replies are skipped when
 * they carry a `messageId` other than `messageId`, and so are the reply's events (tool calls,
 * sources), which the rule does not judge.
 */
export function assembleRecorded(frames: Iterable<(ReplyFrameLike | Pick<ToolCallFrame | ToolResultFrame | SourcesFrame, 'type'>) & { messageId?: string }>, messageId?: string): RecordedReply {
  const a = new ReplyAssembler();
  let seqs: number[] = [];
  for (const f of frames) {
    if ((messageId !== undefined && f.messageId !== messageId) || isEvent(f)) continue;
    const step = a.apply(f);
    if (step === 'token' && f.type === 'token') seqs.push(f.seq);
    else if (step === 'reset') seqs = [];
  }
  const problem = a.problem ?? (a.gaps > 0 ? `${a.gaps} frames past a gap` : a.duplicates > 0 ? `${a.duplicates} duplicate frames` : undefined);
  return {
    text: a.text,
    seqs,
    attempt: a.attempt,
    phase: a.phase,
    finishReason: a.finishReason,
    whole: problem === undefined,
    duplicates: a.duplicates,
    gaps: a.gaps,
    problem,
  };
}

// Every tools/call the server received, for the fleet's integration tests (GET /_calls): what the
// worker sent, with which idempotency key, and whether the call ran to its end or was cancelled.

export interface ToolCall {
  name: string;
  /** As the client sent them, before validation. */
  arguments: unknown;
  /** `params._meta.idempotencyKey` of the request (the worker's `<messageId>:<callId>`), or null. */
  idempotencyKey: string | null;
  startedAt: string;
  /** Unset while the call runs. */
  endedAt?: string;
  /** How long the call ran, in ms to the microsecond (the server's own time, for the tool-step bench); unset while it runs. */
  ms?: number;
  /** The call stopped because the client cancelled it or went away before its answer. */
  cancelled: boolean;
}

/** Oldest first; past `capacity` the oldest go, so a long test run stays bounded. */
export class CallLog {
  private calls: ToolCall[] = [];
  private readonly started = new WeakMap<ToolCall, number>();

  constructor(readonly capacity = 10_000) {}

  start(name: string, args: unknown, idempotencyKey: string | null): ToolCall {
    const call: ToolCall = { name, arguments: args, idempotencyKey, startedAt: new Date().toISOString(), cancelled: false };
    this.started.set(call, performance.now());
    this.calls.push(call);
    if (this.calls.length > this.capacity) this.calls.splice(0, this.calls.length - this.capacity);
    return call;
  }

  /** The first end counts: a handler settling after its request was closed changes nothing. */
  end(call: ToolCall, cancelled: boolean): void {
    if (call.endedAt !== undefined) return;
    call.endedAt = new Date().toISOString();
    call.ms = Math.round((performance.now() - (this.started.get(call) ?? performance.now())) * 1000) / 1000;
    call.cancelled = cancelled;
  }

  list(): readonly ToolCall[] {
    return this.calls;
  }

  clear(): void {
    this.calls = [];
  }
}

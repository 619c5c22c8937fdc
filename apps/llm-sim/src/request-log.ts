// The last chat requests as the model received them, so tests can assert what the worker sent.
import type { ChatMessage, ToolChoice } from './chat-request.js';

export interface LoggedRequest {
  at: string;
  model: string;
  stream: boolean;
  messages: readonly ChatMessage[];
  /** The names of the tools offered, when there were any. */
  tools?: string[];
  toolChoice?: ToolChoice;
  /** The request's tool messages: which call each answers and how long its content is. */
  toolResults?: { toolCallId: string; contentLength: number }[];
  /** The calls the simulator answered with, set once it answers. */
  toolCalls?: { id: string; name: string; arguments: string }[];
}

/** Fixed-size ring buffer: memory stays bounded however long a load test runs. */
export class RequestLog {
  private readonly entries: (LoggedRequest | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity = 1000) {
    this.entries = new Array<LoggedRequest | undefined>(capacity);
  }

  add(entry: LoggedRequest): void {
    this.entries[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** The newest `limit` entries, oldest first. */
  last(limit: number): LoggedRequest[] {
    const n = Math.max(0, Math.min(limit, this.size));
    const out: LoggedRequest[] = [];
    for (let i = n; i > 0; i--) {
      const entry = this.entries[(this.next - i + this.capacity) % this.capacity];
      if (entry !== undefined) out.push(entry);
    }
    return out;
  }

  clear(): void {
    this.entries.fill(undefined);
    this.next = 0;
    this.size = 0;
  }
}

// Cancels reach whichever worker runs the reply: gateways publish the messageId on one channel
// that every worker subscribes to, and mark the reply in Redis for a worker that starts it
// after the publish. BullMQ's own job cancel only works inside the process holding the job.
import type { ChannelSubscriber, RedisKeys, ReplyMeta } from '@chat-fleet/shared';

/** The abort reason of a reply the user cancelled. */
export class ReplyCancelled extends Error {
  constructor() {
    super('the user cancelled the reply');
    this.name = 'ReplyCancelled';
  }
}

export class CancelWatch {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly subscriber: ChannelSubscriber,
    private readonly keys: RedisKeys,
    private readonly replies: ReplyMeta,
  ) {}

  /** Subscribes to the cancel channel; resolves once subscribed. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.keys.cancelChannel, (messageId) => {
      this.running.get(messageId)?.abort(new ReplyCancelled());
    });
  }

  /**
   * Aborts `controller` with ReplyCancelled when the reply is cancelled, including before this
   * call. Returns the function that stops watching.
   */
  async watch(messageId: string, controller: AbortController): Promise<() => void> {
    this.running.set(messageId, controller);
    const stop = (): void => {
      if (this.running.get(messageId) === controller) this.running.delete(messageId);
    };
    try {
      if (await this.replies.isCancelRequested(messageId)) controller.abort(new ReplyCancelled());
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  get size(): number {
    return this.running.size;
  }
}

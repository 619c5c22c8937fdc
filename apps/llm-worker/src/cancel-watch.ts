// Cancels reach whichever worker runs the reply: gateways publish the messageId on one channel
// that every worker subscribes to, and mark the reply in Redis for a worker that starts it
// after the publish. BullMQ's own job cancel only works inside the process holding the job.
import type { ChannelSubscriber, RedisKeys } from '@chat-fleet/shared';

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
  ) {}

  /** Subscribes to the cancel channel; resolves once subscribed. */
  async start(): Promise<void> {
    await this.subscriber.subscribeBroadcast(this.keys.cancelChannel, (messageId) => {
      this.running.get(messageId)?.abort(new ReplyCancelled());
    });
  }

  /**
   * Aborts `controller` with ReplyCancelled when a cancel for the reply is published from now on
   * (a cancel asked for earlier is read from the reply's state). Returns the function that stops
   * watching.
   */
  watch(messageId: string, controller: AbortController): () => void {
    this.running.set(messageId, controller);
    return () => {
      if (this.running.get(messageId) === controller) this.running.delete(messageId);
    };
  }

  get size(): number {
    return this.running.size;
  }
}

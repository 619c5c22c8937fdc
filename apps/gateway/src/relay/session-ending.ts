// Ends a deleted session beyond Redis's keys: stops its reply and tells every gateway holding
// its sockets, through a signal on the session's own channel.
import type { Logger, PubSubMode, RedisKeys, RedisClient } from '@chat-fleet/shared';
import { encodeSessionSignal } from './session-signal.js';
import type { SessionEndings } from '../chat/chat-service.js';
import type { SessionControl } from './session-control.js';

export class RedisSessionEndings implements SessionEndings {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly control: Pick<SessionControl, 'cancel'>,
    private readonly log: Logger,
    /** Session channels are sharded on a Redis Cluster. */
    private readonly pubSub: PubSubMode = 'classic',
  ) {}

  /**
   * The signal goes on the channel the reply's frames go on, so every gateway hears it after
   * every frame published before it and ends its sinks before relaying any later one. The
   * cancel stops the worker; its last frames find no socket. Neither failure is thrown: the
   * session is already gone, and the gateways' expiry check closes its sockets anyway.
   */
  async deleted(sessionId: string, inflight: string | undefined): Promise<void> {
    await Promise.all([
      (this.pubSub === 'sharded' ? this.redis.spublish.bind(this.redis) : this.redis.publish.bind(this.redis))(
        this.keys.sessionChannel(sessionId),
        encodeSessionSignal({ type: 'ended', reason: 'deleted' }),
      )
        .catch((err: unknown) => this.log.warn({ err, sessionId }, 'could not tell the gateways that a session was deleted')),
      inflight === undefined
        ? undefined
        : this.control
            .cancel(sessionId, inflight)
            .catch((err: unknown) => this.log.warn({ err, sessionId, messageId: inflight }, 'could not cancel the reply of a deleted session')),
    ]);
  }
}

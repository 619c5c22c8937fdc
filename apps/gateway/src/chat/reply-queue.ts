// The producer side of the chat queues: replies are spread over QUEUE_SHARDS BullMQ queues by
// a hash of their session (one queue lives on one Redis Cluster slot); every worker takes from all.
import { Queue } from 'bullmq';
import { CHAT_JOB_NAME, type ChatJob, type RedisClient, type RedisKeys, type ReplyRef } from '@chat-fleet/shared';

/** Hands a reply to the worker fleet. At most one job per messageId (the job id). */
export interface ReplyQueue {
  enqueue(job: ChatJob): Promise<void>;
  depth(): Promise<number>;
  /** Takes a job out of the queue if no worker holds it yet; true when removed. */
  removeQueued(ref: ReplyRef): Promise<boolean>;
  close(): Promise<void>;
}

export class BullReplyQueue implements ReplyQueue {
  private readonly queues = new Map<string, Queue<ChatJob>>();

  constructor(
    connection: RedisClient,
    private readonly keys: RedisKeys,
    private readonly count: number,
  ) {
    for (const name of keys.chatQueues(count)) this.queues.set(name, new Queue<ChatJob>(name, { connection, prefix: keys.bullPrefix }));
  }

  private queueOf(sessionId: string): Queue<ChatJob> {
    return this.queues.get(this.keys.chatQueueOf(sessionId, this.count))!;
  }

  async enqueue(job: ChatJob): Promise<void> {
    await this.queueOf(job.sessionId).add(CHAT_JOB_NAME, job, {
      jobId: job.messageId,
      removeOnComplete: { age: 600, count: 10_000 },
      removeOnFail: { age: 3600, count: 10_000 },
    });
  }

  async depth(): Promise<number> {
    const counts = await Promise.all([...this.queues.values()].map((q) => q.getJobCountByTypes('waiting', 'prioritized', 'delayed')));
    return counts.reduce((a, b) => a + b, 0);
  }

  async removeQueued(ref: ReplyRef): Promise<boolean> {
    const queue = this.queueOf(ref.sessionId);
    const job = await queue.getJob(ref.messageId);
    if (job === undefined) return false;
    const state = await job.getState();
    if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized' && state !== 'waiting-children') return false;
    // Atomic in Redis: 0 when a worker locked the job in the meantime.
    return (await queue.remove(ref.messageId)) === 1;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

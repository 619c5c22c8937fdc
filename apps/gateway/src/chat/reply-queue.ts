// The producer side of the chat queue.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CHAT_JOB_NAME, type ChatJob, type RedisKeys } from '@chat-fleet/shared';

/** Hands a reply to the worker fleet. At most one job per messageId (the job id). */
export interface ReplyQueue {
  enqueue(job: ChatJob): Promise<void>;
  depth(): Promise<number>;
  /** Takes a job out of the queue if no worker holds it yet; true when removed. */
  removeQueued(messageId: string): Promise<boolean>;
  close(): Promise<void>;
}

export class BullReplyQueue implements ReplyQueue {
  private readonly queue: Queue<ChatJob>;

  constructor(connection: Redis, keys: RedisKeys) {
    this.queue = new Queue<ChatJob>(keys.chatQueue, { connection, prefix: keys.bullPrefix });
  }

  async enqueue(job: ChatJob): Promise<void> {
    await this.queue.add(CHAT_JOB_NAME, job, {
      jobId: job.messageId,
      removeOnComplete: { age: 600, count: 10_000 },
      removeOnFail: { age: 3600, count: 10_000 },
    });
  }

  async depth(): Promise<number> {
    return this.queue.getJobCountByTypes('waiting', 'prioritized', 'delayed');
  }

  async removeQueued(messageId: string): Promise<boolean> {
    const job = await this.queue.getJob(messageId);
    if (job === undefined) return false;
    const state = await job.getState();
    if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized' && state !== 'waiting-children') return false;
    // Atomic in Redis: 0 when a worker locked the job in the meantime.
    return (await this.queue.remove(messageId)) === 1;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

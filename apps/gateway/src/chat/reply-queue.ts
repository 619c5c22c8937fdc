// The producer side of the chat queues: replies are spread over QUEUE_SHARDS BullMQ queues by
// a hash of their session (one queue lives on one Redis Cluster slot); every worker takes from all.
import { Queue, type Job } from 'bullmq';
import { CHAT_JOB_NAME, ChatJobSchema, type ChatJob, type FailedJob, type QueueStats, type RedisClient, type RedisKeys, type ReplyRef } from '@chat-fleet/shared';

/** Hands a reply to the worker fleet. At most one job per messageId (the job id). */
export interface ReplyQueue {
  enqueue(job: ChatJob): Promise<void>;
  depth(): Promise<number>;
  /** Takes a job out of the queue if no worker holds it yet; true when removed. */
  removeQueued(ref: ReplyRef): Promise<boolean>;
  close(): Promise<void>;
}

/** What the admin console reads of the queues. */
export interface QueueInspector {
  stats(now?: number): Promise<QueueStats>;
  /** The newest failed jobs over every queue, newest first. */
  failed(limit: number): Promise<FailedJob[]>;
  /** The session of a reply whose job is still kept (queued, running, or recently ended). */
  sessionOf(messageId: string): Promise<string | undefined>;
}

const COUNTED_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

/** How long BullMQ keeps a reply's job once it ended (apps/llm-worker/bench/bullmq-job.mjs measures with the same). */
export const CHAT_JOB_RETENTION = {
  removeOnComplete: { age: 600, count: 10_000 },
  removeOnFail: { age: 3600, count: 10_000 },
} as const;

export class BullReplyQueue implements ReplyQueue, QueueInspector {
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
    await this.queueOf(job.sessionId).add(CHAT_JOB_NAME, job, { jobId: job.messageId, ...CHAT_JOB_RETENTION });
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

  async stats(now = Date.now()): Promise<QueueStats> {
    const queues = [...this.queues.values()];
    const [counts, oldest] = await Promise.all([
      Promise.all(queues.map((q) => q.getJobCounts(...COUNTED_STATES))),
      // Ascending: the tail of the wait list and the head of the prioritized set, the next ones taken.
      Promise.all(queues.map((q) => q.getJobs(['waiting', 'prioritized'], 0, 0, true))),
    ]);
    const stats: QueueStats = { waiting: 0, active: 0, delayed: 0, prioritized: 0, failed: 0, completed: 0, oldestWaitingMs: null };
    for (const c of counts) for (const state of COUNTED_STATES) stats[state] += c[state] ?? 0;
    const since = oldest.flat().reduce((min, job: Job | undefined) => (job?.timestamp === undefined ? min : Math.min(min, job.timestamp)), Infinity);
    if (since !== Infinity) stats.oldestWaitingMs = Math.max(0, now - since);
    return stats;
  }

  async failed(limit: number): Promise<FailedJob[]> {
    const jobs = (await Promise.all([...this.queues.values()].map((q) => q.getFailed(0, limit - 1)))).flat();
    return jobs
      .filter((job): job is Job => job !== undefined)
      .sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0))
      .slice(0, limit)
      .map((job) => {
        const data = ChatJobSchema.safeParse(job.data);
        return {
          id: job.id ?? '',
          messageId: data.success ? data.data.messageId : (job.id ?? ''),
          sessionId: data.success ? data.data.sessionId : '',
          ...(data.success && data.data.userId !== undefined ? { userId: data.data.userId } : {}),
          failedReason: job.failedReason ?? '',
          attemptsMade: job.attemptsMade,
          finishedAt: new Date(job.finishedOn ?? job.timestamp).toISOString(),
        };
      });
  }

  async sessionOf(messageId: string): Promise<string | undefined> {
    // The job id is the messageId, in the queue of its session: the one queue that has it.
    const jobs = await Promise.all([...this.queues.values()].map((q) => q.getJob(messageId)));
    for (const job of jobs) {
      const data = ChatJobSchema.safeParse(job?.data);
      if (data.success) return data.data.sessionId;
    }
    return undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

// Writes the frames of every attempt of a process to Redis, a batch at a time. The frames written
// in one synchronous run (a worker's frame clock flushes all its replies' waiting text in one
// tick) go out as one `reply-frames.lua` call on a single Redis, one per slot on a cluster, where
// each frame was a call of its own: one command and one reply to parse for all of them, not one
// per frame. Each frame still gets its own answer (written, resent, fenced, gap), and the frames
// of one reply stay in order: within a call in the order written, and calls go out in order on
// the connection of their slot.
import { Cluster } from 'ioredis';
import type { RedisClient } from '../redis-client.js';
import type { ChatScripts } from '../lua-scripts.js';

/** Frames in one script call at most: bounds how long Redis runs one. */
export const FRAMES_PER_CALL = 256;

interface PendingFrame {
  meta: string;
  stream: string;
  channel: string;
  attempt: string;
  position: number;
  json: string;
  resolve: (code: number) => void;
  reject: (err: unknown) => void;
}

export interface FrameWriterOptions {
  /** Frames kept per reply stream (approximately). */
  maxFrames: number;
  /** TTL of a stream, set with its attempt's first frame. */
  runningTtlSeconds: number;
  publish: 'PUBLISH' | 'SPUBLISH';
}

export class FrameWriter {
  private pending: PendingFrame[] = [];
  private scheduled = false;
  private readonly cluster: boolean;

  constructor(
    private readonly redis: RedisClient & ChatScripts,
    private readonly options: FrameWriterOptions,
  ) {
    this.cluster = redis instanceof Cluster;
  }

  /**
   * Queues a frame for the next batch (sent once the current synchronous run ends); resolves with
   * its answer: 1 written, 2 written before, 0 fenced, -1 a frame before it is missing.
   */
  write(meta: string, stream: string, channel: string, attempt: string, position: number, json: string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ meta, stream, channel, attempt, position, json, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const frames = this.pending;
    this.pending = [];
    if (!this.cluster) {
      for (let i = 0; i < frames.length; i += FRAMES_PER_CALL) this.send(frames.slice(i, i + FRAMES_PER_CALL));
      return;
    }
    // A script's keys must share a slot: on a cluster, one call per session (its keys carry its tag).
    const bySession = new Map<string, PendingFrame[]>();
    for (const f of frames) {
      const group = bySession.get(f.channel);
      if (group === undefined) bySession.set(f.channel, [f]);
      else group.push(f);
    }
    for (const group of bySession.values()) this.send(group);
  };

  private send(frames: PendingFrame[]): void {
    const keys: string[] = [];
    const args: Array<string | number> = [this.options.maxFrames, this.options.runningTtlSeconds, this.options.publish];
    for (const f of frames) {
      keys.push(f.meta, f.stream, f.channel);
      args.push(f.attempt, f.position, f.json);
    }
    this.redis.replyFrames(keys.length, ...keys, ...args).then(
      (codes) => {
        for (let i = 0; i < frames.length; i++) frames[i]!.resolve(codes[i] ?? -1);
      },
      (err: unknown) => {
        for (const f of frames) f.reject(err);
      },
    );
  }
}

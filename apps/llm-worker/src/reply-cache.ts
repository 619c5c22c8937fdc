// Exact-match response cache in Redis. The key is a hash of everything that decides the reply:
// the model, the reply-length cap, the tools offered and the whole context sent (system prompt
// and retrieved passages included). Only replies that ended on their own (`stop`) without
// calling a tool are stored: failed, cancelled and cut ones never, and one that called a tool
// neither, since what the tool said was live.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UsageSchema, type RedisKeys, type Usage, type RedisClient } from '@chat-fleet/shared';
import type { ModelMessage } from './model-client.js';

const CachedReplySchema = z.object({
  /** The reply's token frames' texts, in order, as first streamed. */
  chunks: z.array(z.string()),
  usage: UsageSchema,
  createdAt: z.string(),
});

export type CachedReply = z.infer<typeof CachedReplySchema>;

export interface RequestShape {
  model: string;
  maxTokens: number;
  messages: readonly ModelMessage[];
  /** What identifies the tools offered (their names and schemas); '' for none. */
  toolset?: string;
}

/** The identity of a model request: equal hashes mean the model would be asked the same thing. */
export function requestHash(request: RequestShape): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([request.model, request.maxTokens, request.toolset ?? '', request.messages]));
  return h.digest('base64url');
}

export class ReplyCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly ttlSeconds: number,
  ) {}

  get enabled(): boolean {
    return this.ttlSeconds > 0;
  }

  /** The stored reply, or undefined; a corrupt entry counts as a miss and is removed. */
  async get(hash: string): Promise<CachedReply | undefined> {
    if (!this.enabled) return undefined;
    return this.entry(hash, (await this.redis.get(this.keys.replyCache(hash))) ?? undefined);
  }

  /** A stored entry read elsewhere (with the coalescing lock): parsed, or undefined, a corrupt one removed. */
  async entry(hash: string, raw: string | undefined): Promise<CachedReply | undefined> {
    if (raw === undefined) return undefined;
    const parsed = CachedReplySchema.safeParse(safeJson(raw));
    if (parsed.success) return parsed.data;
    await this.redis.del(this.keys.replyCache(hash));
    return undefined;
  }

  async put(hash: string, chunks: readonly string[], usage: Usage): Promise<void> {
    if (!this.enabled || chunks.length === 0) return;
    const value: CachedReply = { chunks: [...chunks], usage, createdAt: new Date().toISOString() };
    await this.redis.set(this.keys.replyCache(hash), JSON.stringify(value), 'EX', this.ttlSeconds);
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

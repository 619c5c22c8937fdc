// Users an admin blocked: they may not open sessions or send messages, on any gateway. The list
// lives in Redis (a hash, and a version every change bumps: lua/user-block.lua); each gateway
// keeps a copy, checks the version every `refreshMs` and reloads the list only when it moved. So
// a block holds fleet-wide within about `refreshMs` (at once on the gateway that wrote it), and
// checking a message costs no Redis round trip.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineScript, type Logger, type RedisClient, type RedisKeys } from '@chat-fleet/shared';

const BLOCK_LUA = readFileSync(new URL('../../lua/user-block.lua', import.meta.url), 'utf8');

const BlockEntrySchema = z.object({
  /** When the user was blocked (ISO 8601). */
  at: z.string(),
  /** The admin who blocked them (AdminIdentity.who). */
  who: z.string(),
  reason: z.string().optional(),
});

export type BlockEntry = z.infer<typeof BlockEntrySchema>;

type BlockingRedis = RedisClient & {
  userBlock(list: string, version: string, userId: string, entry: string): Promise<number>;
};

/** Whether a user is blocked, answered from memory. */
export interface BlockCheck {
  isBlocked(userId: string): boolean;
}

export class UserBlocks implements BlockCheck {
  private readonly redis: BlockingRedis;
  private blocked = new Map<string, BlockEntry>();
  /** The version the copy was loaded at; undefined before the first load. */
  private version: string | null | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly refreshMs: number,
    private readonly log: Logger,
  ) {
    defineScript(redis, 'userBlock', 2, BLOCK_LUA);
    this.redis = redis as BlockingRedis;
  }

  /** Loads the list, then keeps the copy fresh. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.log.warn({ err }, 'could not reload the block list; keeping the last copy'));
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  isBlocked(userId: string): boolean {
    return this.blocked.has(userId);
  }

  /** The user's block as Redis has it now; undefined when not blocked. */
  async read(userId: string): Promise<BlockEntry | undefined> {
    const json = await this.redis.hget(this.keys.blockedUsers, userId);
    return json === null ? undefined : parseEntry(json);
  }

  async block(userId: string, entry: BlockEntry): Promise<void> {
    await this.redis.userBlock(this.keys.blockedUsers, this.keys.blockedUsersVersion, userId, JSON.stringify(entry));
    await this.refresh();
  }

  async unblock(userId: string): Promise<void> {
    await this.redis.userBlock(this.keys.blockedUsers, this.keys.blockedUsersVersion, userId, '');
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    // The version first: a change between the two reads makes the next check reload again.
    const version = await this.redis.get(this.keys.blockedUsersVersion);
    if (version === this.version) return;
    const all = await this.redis.hgetall(this.keys.blockedUsers);
    const blocked = new Map<string, BlockEntry>();
    for (const [userId, json] of Object.entries(all)) blocked.set(userId, parseEntry(json) ?? { at: '', who: '' });
    this.blocked = blocked;
    this.version = version;
  }
}

function parseEntry(json: string): BlockEntry | undefined {
  try {
    const r = BlockEntrySchema.safeParse(JSON.parse(json));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

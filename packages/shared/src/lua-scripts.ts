// Loads the Lua scripts in ../lua and puts them on an ioredis client as methods. A script may
// include files of ../lua/lib (shared rules, e.g. the history caps): their text is put in front of
// the script's, so each rule is written once.
//
// Not ioredis' defineCommand: every auto-pipeline ioredis builds (one per tick in which a command
// is sent) copies each defined script onto itself, ~50 µs a pipeline with our dozen scripts, and a
// worker sends a frame per token. A script here is EVALSHA (EVAL when Redis answers NOSCRIPT, which
// also loads it), the same as defineCommand does, routed by its keys on a cluster.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisClient } from './redis-client.js';

const LUA_DIR = new URL('../lua/', import.meta.url);

function lua(name: string): string {
  return readFileSync(new URL(`${name}.lua`, LUA_DIR), 'utf8');
}

type Arg = string | number;

export interface ChatScripts {
  releaseIfOwner(lockKey: string, token: string): Promise<number>;
  replyAccept(...args: Arg[]): Promise<[number, string?]>;
  replyRegenerate(...args: Arg[]): Promise<[number, string?]>;
  replyBegin(...args: Arg[]): Promise<[number, (number | string)?]>;
  /** `numkeys` (3 per frame) first, then the keys and the arguments. */
  replyFrames(...args: Arg[]): Promise<number[]>;
  replyFinish(...args: Arg[]): Promise<number>;
  replyEnd(...args: Arg[]): Promise<number>;
  budgetReserve(...args: Arg[]): Promise<[number, string?]>;
  ledgerUser(...args: Arg[]): Promise<number>;
  ledgerFleet(...args: Arg[]): Promise<number>;
  fleetHeartbeat(...args: Arg[]): Promise<number>;
  sessionIndexAdd(...args: Arg[]): Promise<number>;
  sessionRename(...args: Arg[]): Promise<number>;
  replyContext(...args: Arg[]): Promise<[Array<string | null>, string[], string[]]>;
  cacheClaim(...args: Arg[]): Promise<[string | null, string | null]>;
}

/** A script whose caller gives its number of keys as the first argument. */
const VARIADIC = -1;

const SCRIPTS: Record<keyof ChatScripts, { file: string; keys: number; include?: readonly string[] }> = {
  releaseIfOwner: { file: 'release-if-owner', keys: 1 },
  replyAccept: { file: 'reply-accept', keys: 4, include: ['lib/history'] },
  replyRegenerate: { file: 'reply-regenerate', keys: 4 },
  replyBegin: { file: 'reply-begin', keys: 3 },
  replyFrames: { file: 'reply-frames', keys: VARIADIC },
  replyFinish: { file: 'reply-finish', keys: 6, include: ['lib/history'] },
  ledgerUser: { file: 'ledger-user', keys: 4, include: ['lib/ledger'] },
  ledgerFleet: { file: 'ledger-fleet', keys: 5, include: ['lib/ledger'] },
  budgetReserve: { file: 'budget-reserve', keys: 3 },
  replyEnd: { file: 'reply-end', keys: 6, include: ['lib/history'] },
  fleetHeartbeat: { file: 'fleet-heartbeat', keys: 2 },
  sessionIndexAdd: { file: 'session-index-add', keys: 1 },
  sessionRename: { file: 'session-rename', keys: 2 },
  replyContext: { file: 'reply-context', keys: 3 },
  cacheClaim: { file: 'cache-claim', keys: 2 },
};

/** Defines every script once per client (EVALSHA with automatic EVAL fallback). */
export function withScripts(redis: RedisClient): RedisClient & ChatScripts {
  for (const [name, def] of Object.entries(SCRIPTS)) {
    defineScript(redis, name, def.keys, [...(def.include ?? []).map(lua), lua(def.file)].join('\n'));
  }
  return redis as RedisClient & ChatScripts;
}

/**
 * Puts `lua` on `redis` as the method `name`, taking its `keys` keys then its arguments (once per
 * client: a second call for the same name does nothing). `keys` -1: the method's first argument
 * is the number of keys.
 */
export function defineScript(redis: RedisClient, name: string, keys: number, lua: string): void {
  if (name in redis) return;
  const sha = createHash('sha1').update(lua).digest('hex');
  // Called once per frame: the EVALSHA's own promise, with no async wrapper around it.
  const run = (...args: Arg[]): Promise<unknown> => {
    const given = keys < 0 ? (args.shift() as number) : keys;
    return redis.evalsha(sha, given, ...args).catch((err: unknown) => {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(lua, given, ...args);
    });
  };
  Object.defineProperty(redis, name, { value: run, configurable: true, enumerable: false, writable: false });
}

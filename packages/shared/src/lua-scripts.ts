// Loads the Lua scripts in ../lua and registers them on an ioredis client as custom commands.
// A script may include files of ../lua/lib (shared rules, e.g. the history caps): their text is
// put in front of the script's, so each rule is written once.
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
  replyBegin(...args: Arg[]): Promise<[number, (number | string)?]>;
  replyFrame(...args: Arg[]): Promise<number>;
  replyFinish(...args: Arg[]): Promise<number>;
  replyEnd(...args: Arg[]): Promise<number>;
  budgetReserve(...args: Arg[]): Promise<[number, string?]>;
  ledgerUser(...args: Arg[]): Promise<number>;
  ledgerFleet(...args: Arg[]): Promise<number>;
}

const SCRIPTS: Record<keyof ChatScripts, { file: string; keys: number; include?: readonly string[] }> = {
  releaseIfOwner: { file: 'release-if-owner', keys: 1 },
  replyAccept: { file: 'reply-accept', keys: 4, include: ['lib/history'] },
  replyBegin: { file: 'reply-begin', keys: 3 },
  replyFrame: { file: 'reply-frame', keys: 3 },
  replyFinish: { file: 'reply-finish', keys: 6, include: ['lib/history'] },
  ledgerUser: { file: 'ledger-user', keys: 4, include: ['lib/ledger'] },
  ledgerFleet: { file: 'ledger-fleet', keys: 5, include: ['lib/ledger'] },
  budgetReserve: { file: 'budget-reserve', keys: 3 },
  replyEnd: { file: 'reply-end', keys: 6, include: ['lib/history'] },
};

/** Defines every script once per client (EVALSHA with automatic EVAL fallback). */
export function withScripts(redis: RedisClient): RedisClient & ChatScripts {
  for (const [name, def] of Object.entries(SCRIPTS)) {
    if (name in redis) continue;
    const text = [...(def.include ?? []).map(lua), lua(def.file)].join('\n');
    redis.defineCommand(name, { numberOfKeys: def.keys, lua: text });
  }
  return redis as RedisClient & ChatScripts;
}

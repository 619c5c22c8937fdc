// Loads the Lua scripts in ../lua and registers them on an ioredis client as custom commands.
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const LUA_DIR = new URL('../lua/', import.meta.url);

function lua(name: string): string {
  return readFileSync(new URL(`${name}.lua`, LUA_DIR), 'utf8');
}

export interface ChatScripts {
  releaseIfOwner(lockKey: string, token: string): Promise<number>;
  appendMessage(metaKey: string, historyKey: string, json: string, ttlSeconds: number, cap: number): Promise<number>;
}

const SCRIPTS = {
  releaseIfOwner: { file: 'release-if-owner', keys: 1 },
  appendMessage: { file: 'append-message', keys: 2 },
} as const;

/** Defines every script once per client (EVALSHA with automatic EVAL fallback). */
export function withScripts(redis: Redis): Redis & ChatScripts {
  for (const [name, def] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: def.keys, lua: lua(def.file) });
  }
  return redis as Redis & ChatScripts;
}

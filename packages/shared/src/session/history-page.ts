// Reads one page of a session's history in one atomic script (lua/history-page.lua).
import { readFileSync } from 'node:fs';
import { defineScript } from '../lua-scripts.js';
import type { RedisClient } from '../redis-client.js';
import { StoredMessageSchema, type StoredMessage } from '@chat-fleet/protocol';

const PAGE_LUA = readFileSync(new URL('../../lua/history-page.lua', import.meta.url), 'utf8');

export interface HistoryPage {
  /** Oldest first. */
  messages: StoredMessage[];
  /** Older messages remain before this page. */
  hasMore: boolean;
}

type PagingRedis = RedisClient & { historyPage(key: string, before: string, limit: number): Promise<Array<number | string>> };

/**
 * The `limit` messages before message `before` (the newest ones without it), oldest first;
 * undefined when `before` is not in the history (never was, or was trimmed away).
 */
export async function readHistoryPage(redis: RedisClient, historyKey: string, limit: number, before?: string): Promise<HistoryPage | undefined> {
  defineScript(redis, 'historyPage', 1, PAGE_LUA);
  const [found, hasMore, ...rows] = await (redis as PagingRedis).historyPage(historyKey, before ?? '', limit);
  if (found !== 1) return undefined;
  return { messages: rows.map((row) => StoredMessageSchema.parse(JSON.parse(String(row)))), hasMore: hasMore === 1 };
}

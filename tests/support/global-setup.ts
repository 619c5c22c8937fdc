// Starts a private redis-server for the whole run unless REDIS_URL points at one.
import { startRedisServer, type RedisServer } from '@chat-fleet/stack';

declare global {
  var __chatFleetRedis: RedisServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) return;
  const server = await startRedisServer();
  globalThis.__chatFleetRedis = server;
  process.env.REDIS_URL = server.url;
}

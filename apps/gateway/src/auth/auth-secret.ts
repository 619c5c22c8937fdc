import type { RedisClient } from '@chat-fleet/shared';
// The signing secret: AUTH_SECRET when set, else one random secret shared by every gateway
// through Redis (SET NX), so replicas started without configuration still agree.
import { randomBytes } from 'node:crypto';

export async function resolveAuthSecret(configured: string | undefined, redis: RedisClient, key: string): Promise<string> {
  if (configured !== undefined) return configured;
  await redis.set(key, randomBytes(48).toString('base64url'), 'NX');
  const shared = await redis.get(key);
  if (shared === null) throw new Error('could not read the shared auth secret from Redis');
  return shared;
}

// A view of a Redis client without the scripts defined on it (packages/shared/src/lean-client.ts):
// what the gateway's session store uses so its MULTIs carry none of BullMQ's ~50 scripts. It must
// stay the same connection (same order), run MULTIs whole, and leave the client's scripts alone.
import { expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { withoutDefinedScripts } from '@chat-fleet/shared';
import { useTestRedis } from '../support/test-redis.js';

const redis = useTestRedis() as Redis & { bump(key: string, by: number): Promise<number> };
const key = `t-redis-view-${Math.random().toString(36).slice(2, 8)}`;

it('sends on the same connection, in order, runs MULTIs whole, and leaves the client its scripts', async () => {
  redis.defineCommand('bump', { numberOfKeys: 1, lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])" });
  const view = withoutDefinedScripts(redis) as Redis;
  try {
    // One connection: the server sees the same client id through both.
    expect(await view.client('ID')).toBe(await redis.client('ID'));
    // A MULTI built through the view carries no script definitions, and runs whole.
    const multi = view.multi();
    const copied = (m: object): number => Object.keys((m as { _shaToScript: Record<string, unknown> })._shaToScript).length;
    expect(copied(multi)).toBe(0);
    expect(Object.hasOwn(multi, 'bump')).toBe(false);
    expect(copied(redis.multi())).toBeGreaterThan(0);
    const result = await multi.set(key, '1').incrby(key, 2).expire(key, 60).exec();
    expect(result?.map(([err, value]) => [err, value])).toEqual([[null, 'OK'], [null, 3], [null, 1]]);
    // Interleaved, the client's script and the view's commands keep their order on the one connection.
    const order = await Promise.all([redis.bump(key, 10), view.incrby(key, 100), redis.bump(key, 1000), view.get(key)]);
    expect(order).toEqual([13, 113, 1113, '1113']);
  } finally {
    await redis.del(key);
  }
});

// The run's Redis as test files see it: its topology (TEST_REDIS_MODE: one redis-server, a Redis
// Cluster or a Sentinel set-up, started by the global setup), a client for it, and a subscriber
// that hears a session's channel the way the fleet publishes it.
import { afterAll } from '@jest/globals';
import { ChannelSubscriber, createRedis, pubSubModeOf, type RedisClient, type RedisTopology } from '@chat-fleet/shared';
import { connectRedis, topologyFromEnv } from '@chat-fleet/stack';
import type { RedisOptions } from 'ioredis';

export type TestRedisMode = RedisTopology['mode'];

/** The run's Redis, from the variables the global setup left: REDIS_CLUSTER_NODES, REDIS_SENTINELS or REDIS_URL. */
export function testTopology(): RedisTopology {
  const topology = topologyFromEnv(process.env);
  if (topology === undefined) throw new Error('no Redis for this run: the jest global setup (tests/support/global-setup.ts) sets REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS');
  return topology;
}

/** The kind of Redis this run uses. */
export function testRedisMode(): TestRedisMode {
  return testTopology().mode;
}

/**
 * A client of the run's Redis for a test's own reads, writes and admin commands: ioredis `Redis`
 * on one server, `Redis` through the Sentinels on a Sentinel set-up (it talks to the primary),
 * `Cluster` on a cluster (keys are routed by slot; a command without a key goes to any node).
 * Disconnect it when done.
 */
export function testRedis(options: RedisOptions = {}): RedisClient {
  const client = connectRedis(testTopology(), options);
  // A failover or a killed connection is part of some tests; ioredis reconnects by itself.
  client.on('error', () => undefined);
  return client;
}

/** testRedis() for the enclosing describe block (or file): disconnected after it. */
export function useTestRedis(options: RedisOptions = {}): RedisClient {
  const client = testRedis(options);
  afterAll(() => client.disconnect());
  return client;
}

export interface SessionListener {
  /** Unsubscribes and disconnects. */
  close(): void;
}

/**
 * Hears every message the fleet publishes on a session channel, from the moment this resolves:
 * classic pub/sub on one server or Sentinel, sharded (SSUBSCRIBE on the channel's shard) on a cluster.
 */
export async function subscribeSessionChannel(channel: string, listener: (message: string) => void): Promise<SessionListener> {
  const topology = testTopology();
  const client = createRedis(topology, { name: 'test-subscriber', subscriber: true });
  client.on('error', () => undefined);
  const subscriber = new ChannelSubscriber(client, pubSubModeOf(topology));
  try {
    const unsubscribe = await subscriber.subscribe(channel, listener);
    return {
      close() {
        unsubscribe();
        client.disconnect();
      },
    };
  } catch (err) {
    client.disconnect();
    throw err;
  }
}

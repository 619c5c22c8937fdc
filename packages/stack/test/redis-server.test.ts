import { existsSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { freePort } from '../src/free-port.js';
import { ensureRedis, findRedisServer, pingRedis, RedisNotFoundError, startRedisServer, type RedisServer } from '../src/redis-server.js';
import { alive } from './scripts.js';

// Real child processes start slowly on a loaded CI machine.
jest.setTimeout(60_000);

describe('startRedisServer', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('finds redis-server on PATH', () => {
    expect(findRedisServer()).toMatch(/redis-server$/);
  });

  it('answers PING through ioredis', async () => {
    const client = new Redis(server.url, { lazyConnect: true });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.quit();
    }
  });

  it('pingRedis is true on it and false on a closed port', async () => {
    expect(await pingRedis(server.url)).toBe(true);
    const closed = await freePort();
    expect(await pingRedis(`redis://127.0.0.1:${closed}`, 500)).toBe(false);
  });

  it('restart() keeps the port and loses the data', async () => {
    const { port } = server;
    const before = server.pid;
    const client = new Redis(server.url, { lazyConnect: true });
    await client.connect();
    await client.set('stack-test:key', 'v');
    await client.quit();

    await server.restart();
    expect(server.port).toBe(port);
    expect(server.url).toBe(`redis://127.0.0.1:${port}`);
    expect(server.pid).not.toBe(before);
    expect(alive(before)).toBe(false);

    const after = new Redis(server.url, { lazyConnect: true });
    await after.connect();
    try {
      expect(await after.get('stack-test:key')).toBeNull();
    } finally {
      await after.quit();
    }
  });
});

describe('stopping and failing', () => {
  it('stop() leaves no process and no directory behind', async () => {
    const server = await startRedisServer();
    const pid = server.pid;
    // The private directory is its cwd.
    const dir = readlinkSync(`/proc/${pid}/cwd`);
    expect(dir).toContain('chat-fleet-redis-');
    expect(existsSync(dir)).toBe(true);
    await server.stop();
    expect(alive(pid)).toBe(false);
    expect(await pingRedis(server.url, 300)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it('a port already in use fails with a clear error', async () => {
    const server = await startRedisServer();
    try {
      await expect(startRedisServer({ port: server.port })).rejects.toThrow(/in use/);
    } finally {
      await server.stop();
    }
  });

  it('without redis-server on PATH it throws RedisNotFoundError with one line', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const closed = await freePort();
      const url = `redis://127.0.0.1:${closed}`;
      const err = await ensureRedis(url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisNotFoundError);
      expect((err as Error).message).toBe(
        `redis-server was not found on PATH and no Redis answers at ${url}: install Redis 7 (Debian: apt-get install -y redis-server) or set REDIS_URL`,
      );
      await expect(startRedisServer()).rejects.toBeInstanceOf(RedisNotFoundError);
    } finally {
      process.env.PATH = path;
    }
  });

  it('ensureRedis uses a Redis that answers and starts none', async () => {
    const server = await startRedisServer();
    try {
      const ensured = await ensureRedis(server.url);
      expect(ensured).toEqual({ url: server.url, server: undefined });
    } finally {
      await server.stop();
    }
  });

  it('ensureRedis starts a private one when nothing answers', async () => {
    const closed = await freePort();
    const ensured = await ensureRedis(`redis://127.0.0.1:${closed}`);
    try {
      expect(ensured.server).toBeDefined();
      expect(await pingRedis(ensured.url)).toBe(true);
    } finally {
      await ensured.server?.stop();
    }
  });
});

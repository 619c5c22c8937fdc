import { createServer } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { freePort, isPortFree } from '../src/free-port.js';

function listen(port: number): Promise<ReturnType<typeof createServer>> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('freePort', () => {
  it('returns a port that can be bound', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = await listen(port);
    await new Promise((resolve) => server.close(resolve));
  });

  it('isPortFree tells a bound port from a free one', async () => {
    const port = await freePort();
    expect(await isPortFree(port)).toBe(true);
    const server = await listen(port);
    try {
      expect(await isPortFree(port)).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { freePort } from '../src/free-port.js';
import { startProcess } from '../src/managed-process.js';
import { alive, healthServer, scriptDir } from './scripts.js';

// Real child processes start slowly on a loaded CI machine.
jest.setTimeout(60_000);

const scripts = scriptDir();
afterAll(() => scripts.remove());

describe('managed process', () => {
  it('becomes ready when /health answers, and stop() sends SIGTERM and waits', async () => {
    const script = scripts.write('server.mjs', healthServer('process.env.TEST_PORT'));
    const port = await freePort();
    const log = join(scripts.dir, 'logs', 'server.log');
    const proc = await startProcess({
      name: 'server',
      script,
      env: { ...process.env, TEST_PORT: String(port) },
      output: { file: log },
    });
    expect(proc.pid).toBeGreaterThan(0);
    await proc.waitForHttp(`http://127.0.0.1:${port}/health`, 10_000);
    expect(proc.running).toBe(true);

    const exit = await proc.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await proc.exited).toEqual(exit);
    expect(alive(proc.pid)).toBe(false);
    const text = readFileSync(log, 'utf8');
    expect(text).toContain(`listening on ${port}`);
    expect(text).toContain('got SIGTERM');
  });

  it('readiness rejects at once with the output of a child that exits', async () => {
    const script = scripts.write('crash.mjs', `console.log('booting'); console.error('boom: cannot start'); process.exit(3);`);
    const proc = await startProcess({ name: 'crasher', script, output: 'silent' });
    const started = Date.now();
    const err = await proc.waitForHttp('http://127.0.0.1:1/health', 20_000).catch((e: unknown) => e as Error);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^crasher exited \(code 3\) before it was ready/);
    expect((err as Error).message).toContain('booting');
    expect((err as Error).message).toContain('boom: cannot start');
    expect(proc.exit).toEqual({ code: 3, signal: null });
  });

  it('readiness times out with the output so far', async () => {
    const script = scripts.write('idle.mjs', `console.log('idling'); setInterval(() => {}, 1000);`);
    const proc = await startProcess({ name: 'idler', script });
    try {
      await proc.waitUntil(() => Promise.resolve(proc.tail().includes('idling')));
      await expect(proc.waitForHttp('http://127.0.0.1:1/health', 500)).rejects.toThrow(/idler was not ready after 500 ms[\s\S]*idling/);
    } finally {
      await proc.stop('SIGTERM', 2000);
    }
  });

  it('stop() falls back to SIGKILL after the grace for a child that ignores SIGTERM', async () => {
    const script = scripts.write(
      'stubborn.mjs',
      `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('up'); setInterval(() => {}, 1000);`,
    );
    const proc = await startProcess({ name: 'stubborn', script });
    await proc.waitUntil(() => Promise.resolve(proc.tail().includes('up')), { timeoutMs: 5000 });
    const started = Date.now();
    const exit = await proc.stop('SIGTERM', 300);
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(proc.tail()).toContain('ignoring SIGTERM');
    expect(alive(proc.pid)).toBe(false);
  });

  it('kill() signals without waiting and exited reports the signal', async () => {
    const script = scripts.write('sleeper.mjs', `setInterval(() => {}, 1000);`);
    const proc = await startProcess({ name: 'sleeper', script });
    proc.kill('SIGKILL');
    expect(await proc.exited).toEqual({ code: null, signal: 'SIGKILL' });
    proc.kill('SIGKILL');
    expect(await proc.stop()).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('prefixes each line with the name in inherit-prefixed mode', async () => {
    const script = scripts.write('talker.mjs', `console.log('one'); console.log('two');`);
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const proc = await startProcess({ name: 'talker', script, output: 'inherit-prefixed', nameWidth: 10 });
      await proc.exited;
    } finally {
      process.stdout.write = original;
    }
    const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
    const lines = written.filter((w) => w.includes('talker')).map((w) => w.replace(ansi, ''));
    expect(lines).toEqual(['talker     │ one\n', 'talker     │ two\n']);
  });

  it('rejects when the command cannot be spawned', async () => {
    await expect(startProcess({ name: 'ghost', command: '/nonexistent/binary' })).rejects.toThrow(/ghost: could not start/);
  });
});

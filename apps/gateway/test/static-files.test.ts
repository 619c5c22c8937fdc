import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import uWS from 'uWebSockets.js';
import { mountStaticFiles } from '../src/transport/static-files.js';

const apps: uWS.TemplatedApp[] = [];
afterAll(() => apps.forEach((app) => app.close()));

/** A real uWS app serving `root` on a free port. */
function serve(root: string): Promise<{ base: string; files: number }> {
  const app = uWS.App();
  apps.push(app);
  const files = mountStaticFiles(app, root);
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (socket) => {
      if (!socket) return reject(new Error('listen failed'));
      resolve({ base: `http://127.0.0.1:${uWS.us_socket_local_port(socket)}`, files });
    });
  });
}

describe('mountStaticFiles', () => {
  const root = mkdtempSync(join(tmpdir(), 'web-'));
  mkdirSync(join(root, 'assets'));
  const script = `console.log(${JSON.stringify('chat '.repeat(2000))});\n`;
  writeFileSync(join(root, 'index.html'), '<!doctype html><div id="app"></div>');
  writeFileSync(join(root, 'assets', 'index-abc123.js'), script);

  it('serves index.html at / and hashed assets with long caching, compressed when the client accepts it', async () => {
    const { base, files } = await serve(root);
    expect(files).toBe(2);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toBe('<!doctype html><div id="app"></div>');

    // fetch decodes what it asked for; content-encoding tells what travelled.
    const br = await fetch(`${base}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await br.text()).toBe(script);
    const gz = await fetch(`${base}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(await gz.text()).toBe(script);
    const plain = await fetch(`${base}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await plain.text()).toBe(script);
  });

  it('serves admin.html at exactly /admin and /admin/ with a strict CSP, beside the admin REST routes', async () => {
    const site = mkdtempSync(join(tmpdir(), 'web-'));
    writeFileSync(join(site, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(join(site, 'admin.html'), '<!doctype html><div id="admin"></div>');
    const app = uWS.App();
    apps.push(app);
    app.get('/admin/whoami', (res) => void res.end('{"who":"admin-key"}'));
    mountStaticFiles(app, site);
    const base = await new Promise<string>((resolve, reject) => {
      app.listen('127.0.0.1', 0, (socket) => (socket ? resolve(`http://127.0.0.1:${uWS.us_socket_local_port(socket)}`) : reject(new Error('listen failed'))));
    });

    for (const path of ['/admin', '/admin/', '/admin.html']) {
      const page = await fetch(`${base}${path}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toBe('<!doctype html><div id="admin"></div>');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('cache-control')).toBe('no-cache');
    }
    expect(await (await fetch(`${base}/admin/whoami`)).text()).toBe('{"who":"admin-key"}');
    // The chat page keeps its own headers.
    expect((await fetch(`${base}/`)).headers.get('content-security-policy')).toBeNull();
  });

  it('answers / with 503 and how to build the client when the folder has no index.html', async () => {
    const { base, files } = await serve(join(root, 'missing'));
    expect(files).toBe(0);
    for (const path of ['/', '/admin']) {
      const page = await fetch(`${base}${path}`);
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('The web client is not built');
    }
  });
});

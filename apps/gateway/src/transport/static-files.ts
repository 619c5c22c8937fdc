// Serves the web client: every file under a folder, read once at start-up, from memory.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { TemplatedApp } from 'uWebSockets.js';
import { Reply } from './http-kit.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const NOT_BUILT = (root: string): string =>
  `<!doctype html><meta charset="utf-8"><title>chat-fleet</title>
<p>The web client is not built: <code>${escapeHtml(root)}</code> has no index.html.
Run <code>npm run build</code> (or set WEB_ROOT to the built client) and restart the gateway.
The API and WebSocket work without it.</p>\n`;

/**
 * Mounts GET routes for the files of `root`; `/` serves `index.html`. Returns the file count.
 * Without a built client `/` answers 503 with a page that says how to build it, and 0 is returned.
 */
export function mountStaticFiles(app: TemplatedApp, root: string): number {
  if (!existsSync(join(root, 'index.html'))) {
    const body = NOT_BUILT(root);
    app.get('/', (res) => new Reply(res).send(503, body, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }));
    return 0;
  }
  let count = 0;
  for (const file of walk(root)) {
    const urlPath = `/${relative(root, file).split(sep).join('/')}`;
    const body = readFileSync(file);
    const headers = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      // HTML revalidates so a deploy shows at once; hashed assets may be cached for long.
      'cache-control': urlPath.endsWith('.html') ? 'no-cache' : 'public, max-age=3600',
      'x-content-type-options': 'nosniff',
    };
    const serve = (res: Parameters<Parameters<TemplatedApp['get']>[1]>[0]): void => new Reply(res).send(200, body, headers);
    app.get(urlPath, serve);
    if (urlPath === '/index.html') app.get('/', serve);
    count++;
  }
  return count;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

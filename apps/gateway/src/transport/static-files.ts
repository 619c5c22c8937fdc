// Serves the web client: every file under a folder, read and compressed once at start-up, from memory:
// the chat page at `/`, the admin console at `/admin`.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
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
 * The admin console runs with an admin credential in memory, so it may load and reach nothing but
 * this gateway's own scripts, styles and API, and no other page may frame it.
 */
const ADMIN_PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** Worth compressing: text. Images and fonts are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg', '.webmanifest']);

interface Encoded {
  identity: Buffer;
  br: Buffer | undefined;
  gzip: Buffer | undefined;
}

/** Compressed once at start-up (a few hundred kB at most); kept only where it saves bytes. */
function encode(body: Buffer, ext: string): Encoded {
  if (!COMPRESSIBLE.has(ext) || body.length < 1024) return { identity: body, br: undefined, gzip: undefined };
  const smaller = (b: Buffer): Buffer | undefined => (b.length < body.length ? b : undefined);
  return {
    identity: body,
    br: smaller(brotliCompressSync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } })),
    gzip: smaller(gzipSync(body, { level: 9 })),
  };
}

/**
 * Mounts GET routes for the files of `root`; `/` serves `index.html` and `/admin` (or `/admin/`)
 * `admin.html`, only those exact paths: the admin REST routes live under `/admin/…`. Returns the
 * file count. Without a built client both pages answer 503 with a page that says how to build it,
 * and 0 is returned.
 */
export function mountStaticFiles(app: TemplatedApp, root: string): number {
  if (!existsSync(join(root, 'index.html'))) {
    const body = NOT_BUILT(root);
    for (const page of ['/', '/admin', '/admin/']) {
      app.get(page, (res) => new Reply(res).send(503, body, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }));
    }
    return 0;
  }
  let count = 0;
  for (const file of walk(root)) {
    const urlPath = `/${relative(root, file).split(sep).join('/')}`;
    const ext = extname(file);
    const body = encode(readFileSync(file), ext);
    const headers = {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      // HTML revalidates so a deploy shows at once; Vite's assets/ carry a content hash in their names.
      'cache-control': urlPath.endsWith('.html') ? 'no-cache' : urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=3600',
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
      ...(urlPath === '/admin.html' ? ADMIN_PAGE_HEADERS : {}),
    };
    const serve = (res: HttpResponse, req: HttpRequest): void => {
      const accepted = req.getHeader('accept-encoding');
      if (body.br !== undefined && /\bbr\b/.test(accepted)) new Reply(res).send(200, body.br, { ...headers, 'content-encoding': 'br' });
      else if (body.gzip !== undefined && /\bgzip\b/.test(accepted)) new Reply(res).send(200, body.gzip, { ...headers, 'content-encoding': 'gzip' });
      else new Reply(res).send(200, body.identity, headers);
    };
    app.get(urlPath, serve);
    if (urlPath === '/index.html') app.get('/', serve);
    if (urlPath === '/admin.html') {
      app.get('/admin', serve);
      app.get('/admin/', serve);
    }
    count++;
  }
  return count;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Throwaway Node scripts written to a private temp dir, standing in for real children.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScriptDir {
  dir: string;
  write(name: string, source: string): string;
  remove(): void;
}

export function scriptDir(): ScriptDir {
  const dir = mkdtempSync(join(tmpdir(), 'chat-fleet-stack-test-'));
  return {
    dir,
    write(name, source) {
      const file = join(dir, name);
      writeFileSync(file, source);
      return file;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An HTTP server on the port `portExpr` evaluates to, answering /health with 200 and its env. */
export function healthServer(portExpr: string): string {
  return `
import { createServer } from 'node:http';
const port = Number(${portExpr});
const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ pid: process.pid, env: process.env }));
  } else { res.writeHead(404); res.end(); }
});
server.listen(port, '127.0.0.1', () => console.log('listening on ' + port));
process.on('SIGTERM', () => { console.log('got SIGTERM'); server.close(() => process.exit(0)); });
`;
}

/** Picks its port by role, as the real apps do. */
export const FAKE_APP = `
const id = process.env.INSTANCE_ID ?? '';
const portVar = id.startsWith('gateway') ? 'PORT' : id.startsWith('worker') ? 'METRICS_PORT' : id === 'mcp-tools' ? 'MCP_TOOLS_PORT' : 'LLM_SIM_PORT';
${healthServer('process.env[portVar]')}
`;

/** Whether a pid is still alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

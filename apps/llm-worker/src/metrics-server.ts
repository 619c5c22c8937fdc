// The worker's small HTTP surface on METRICS_PORT: /metrics and /health.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface WorkerHealth {
  status: number;
  body: Record<string, unknown>;
}

export function startMetricsServer(port: number, registry: Registry, health: () => Promise<WorkerHealth>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = async (): Promise<void> => {
      if (path === '/metrics') {
        const text = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      } else if (path === '/health') {
        const h = await health();
        res.writeHead(h.status, { 'content-type': 'application/json' }).end(JSON.stringify(h.body));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: `no route for ${path}` } }));
      }
    };
    answer().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'internal', message: String(err) } }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}

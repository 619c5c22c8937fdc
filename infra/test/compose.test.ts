// docker-compose.yml: the local fleet (Redis, simulator, MCP tools server, 2 gateways, 2 workers) is wired to
// itself, every service has a healthcheck, containers are locked down, and secrets only come
// from the caller's environment.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  deploy?: { replicas?: number };
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  stop_grace_period?: string;
}

// Compose files use YAML merge keys (<<) for the shared parts.
const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
const built = (dockerfile: string): [string, Service][] => services.filter(([, s]) => s.build?.dockerfile === dockerfile);
const seconds = (duration: string | undefined): number => Number(/^(\d+)s$/.exec(duration ?? '')?.[1] ?? NaN);

describe('docker-compose.yml', () => {
  test('runs Redis, the simulator, the MCP tools server, 2 gateways and 2 workers from the repository Dockerfiles', () => {
    expect(compose.services.redis?.image).toMatch(/^redis:7\.\d+\.\d+/);
    expect(built('apps/llm-sim/Dockerfile')).toHaveLength(1);
    expect(built('apps/mcp-tools/Dockerfile')).toHaveLength(1);
    const gateways = built('apps/gateway/Dockerfile');
    expect(gateways).toHaveLength(2);
    expect(gateways.flatMap(([, s]) => s.ports ?? []).sort()).toEqual(['8088:8088', '8089:8088']);
    const workers = built('apps/llm-worker/Dockerfile');
    expect(workers.reduce((n, [, s]) => n + (s.deploy?.replicas ?? 1), 0)).toBe(2);
    for (const [name, s] of services.filter(([, s]) => s.build)) {
      expect([name, s.build!.context, existsSync(`${ROOT}${s.build!.dockerfile}`)]).toEqual([name, '.', true]);
      expect([name, s.image]).toEqual([name, expect.stringMatching(/^chat-fleet\/[a-z-]+:\d+\.\d+\.\d+$/)]);
    }
  });

  test('every service has a healthcheck; the images check with node, not curl', () => {
    for (const [name, s] of services) {
      expect([name, (s.healthcheck?.test ?? []).length > 1]).toEqual([name, true]);
      if (s.build) expect([name, s.healthcheck!.test.slice(0, 2)]).toEqual([name, ['CMD', 'node']]);
    }
  });

  test('gateways and workers find Redis, workers the simulator and the tools server, and start once Redis is healthy', () => {
    for (const [name, s] of [...built('apps/gateway/Dockerfile'), ...built('apps/llm-worker/Dockerfile')]) {
      expect([name, s.environment?.REDIS_URL]).toEqual([name, 'redis://redis:6379']);
      expect([name, s.depends_on?.redis?.condition]).toEqual([name, 'service_healthy']);
    }
    const [, worker] = built('apps/llm-worker/Dockerfile')[0]!;
    const sim = built('apps/llm-sim/Dockerfile')[0]!;
    expect(worker.environment?.OPENAI_BASE_URL).toBe(`\${OPENAI_BASE_URL:-http://${sim[0]}:${sim[1].environment?.LLM_SIM_PORT}/v1}`);
    expect(sim[1].environment?.HOST).toBe('0.0.0.0');
    const tools = built('apps/mcp-tools/Dockerfile')[0]!;
    expect(worker.environment?.MCP_SERVERS).toBe(`\${MCP_SERVERS:-tools=http://${tools[0]}:${tools[1].environment?.MCP_TOOLS_PORT}/mcp}`);
    expect(worker.depends_on?.[tools[0]]?.condition).toBe('service_healthy');
    expect(tools[1].environment?.HOST).toBe('0.0.0.0');
  });

  test('gateways get longer to stop than they take to drain', () => {
    for (const [name, s] of built('apps/gateway/Dockerfile')) {
      const drainMs = Number(s.environment?.DRAIN_TIMEOUT_MS ?? 10_000);
      expect([name, seconds(s.stop_grace_period) * 1000 > drainMs]).toEqual([name, true]);
    }
  });

  test('containers are read-only, without capabilities or privilege escalation', () => {
    for (const [name, s] of services) {
      expect([name, s.read_only, s.cap_drop, s.security_opt]).toEqual([name, true, ['ALL'], ['no-new-privileges:true']]);
    }
  });

  test('secrets come only from the caller environment, never literal values', () => {
    for (const [name, s] of services) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/SECRET|API_KEY|PASSWORD|TOKEN/.test(key)) expect([name, key, value]).toEqual([name, key, `\${${key}:-}`]);
      }
    }
  });
});

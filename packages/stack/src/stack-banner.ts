// What `npm start` prints once everything is ready: every URL a person needs.
import { describeTopology, type RedisTopology } from '@chat-fleet/shared';
import type { Stack } from './stack.js';

export interface BannerRedis {
  topology: RedisTopology;
  /** True when the launcher started it and it is discarded on exit. */
  private: boolean;
}

const localhost = (url: string): string => url.replace('127.0.0.1', 'localhost');

export function formatStackBanner(stack: Stack, redis: BannerRedis): string {
  const rows: [string, string][] = [];
  const first = stack.gateways[0];
  if (first !== undefined) {
    rows.push(['web client', `${localhost(first.url)}/`]);
    rows.push(['admin console', `${localhost(first.url)}/admin   (sign in with the admin key below)`]);
  }
  for (const g of stack.gateways) {
    rows.push([g.instance, `${localhost(g.url)}   ${localhost(g.wsUrl)}/ws/{sessionId}/{clientId}?token=…`]);
  }
  for (const w of stack.workers) rows.push([w.instance, `${localhost(w.metricsUrl)}/metrics`]);
  rows.push(['simulator', stack.sim === undefined ? 'off: workers call OpenAI (OPENAI_API_KEY)' : `${localhost(stack.sim.url)}/v1`]);
  rows.push([
    'mcp tools',
    stack.mcpTools === undefined
      ? 'off: workers use the MCP_SERVERS they are given, if any'
      : `${localhost(stack.mcpTools.url)}   (flight_status, policy_search, tone_check; workers: MCP_SERVERS=tools=…)`,
  ]);
  rows.push(['redis', `${describeTopology(redis.topology)} ${redis.private ? '(private, discarded on exit)' : '(external)'}`]);
  // The admin routes' credential (ADMIN_API_KEY): send it as `Authorization: Bearer <key>`.
  rows.push(['admin key', `${stack.adminApiKey}   (Authorization: Bearer …, e.g. ${first === undefined ? '' : localhost(first.url)}/admin/whoami)`]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return ['', 'chat-fleet is up', ...rows.map(([k, v]) => `  ${k.padEnd(width)}${v}`), '', 'Ctrl-C stops everything', ''].join('\n');
}

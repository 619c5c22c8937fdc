// The integration files that touch Redis and hold on a Redis Cluster, against a private cluster
// (three primaries, a replica each) the global setup starts; `npm run test:cluster`.
// Left out, as they need one server or a topology a cluster refuses: reply-integrity (CLIENT KILL
// TYPE pubsub and CONFIG SET maxmemory on one server), redis-metrics (CLIENT LIST/KILL of one
// connection), redis-full and faults (a private redis-server of their own), relay-gateway-mode
// (RELAY_SUBSCRIPTION=gateway needs a pattern subscription, refused on a cluster); and, to keep
// the run short, the browser tests and the files whose Redis use is one server's anyway.
import base from './jest.config.js';

const files = [
  'streaming',
  'resume-cancel',
  'follow-reply',
  'shared-state',
  'rate-limits',
  'model-budget',
  'usage-budgets',
  'frame-batching',
  'session-lifecycle',
  'abuse-limits',
  'identity',
  'admin',
  'conversations',
  'cluster-faults',
];

export default {
  ...base,
  displayName: '@chat-fleet/tests (cluster)',
  testMatch: files.map((f) => `<rootDir>/integration/${f}.test.ts`),
  testPathIgnorePatterns: ['/node_modules/'],
  // The global setup reads it: this config always runs on a cluster, whatever TEST_REDIS_MODE says.
  globals: { TEST_REDIS_MODE: 'cluster' },
};

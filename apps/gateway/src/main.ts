// Entry point of a gateway process. Tracing starts first (when OTEL_* configures it), so its
// instrumentation patches ioredis before the gateway loads it; then the gateway itself.
import { startTracing } from '@chat-fleet/shared/tracing';

await startTracing({ serviceName: 'chat-gateway', instance: process.env.INSTANCE_ID });
await import('./run-gateway.js');

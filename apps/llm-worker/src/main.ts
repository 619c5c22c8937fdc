// Entry point of an LLM worker process. Tracing starts first (when OTEL_* configures it), so its
// instrumentation patches ioredis and fetch before the worker loads them; then the worker.
import { startTracing } from '@chat-fleet/shared/tracing';

await startTracing({ serviceName: 'chat-llm-worker', instance: process.env.INSTANCE_ID });
await import('./run-worker.js');

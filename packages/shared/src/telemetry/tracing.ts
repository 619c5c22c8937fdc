// Starts OpenTelemetry tracing for one process, before the app's modules load. Configured by the
// standard OTEL_* variables; off unless an exporter is configured. Import this module through
// `@chat-fleet/shared/tracing`, which loads nothing else (no ioredis), so instrumentation can
// patch the libraries the app imports afterwards.
import { register } from 'node:module';

export interface TracingOptions {
  /** `service.name` unless OTEL_SERVICE_NAME overrides it. */
  serviceName: string;
  /** `service.instance.id`: the process's INSTANCE_ID when set. */
  instance?: string;
  env?: NodeJS.ProcessEnv;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Flushes the spans still buffered; call before exiting. */
  shutdown(): Promise<void>;
}

const DISABLED: Tracing = { enabled: false, shutdown: () => Promise.resolve() };

let current: Tracing = DISABLED;

/** Flushes and stops the process's tracing, if started; for a clean exit. */
export function shutdownTracing(): Promise<void> {
  return current.shutdown();
}

/**
 * True when the environment asks for traces: an OTLP endpoint, or an exporter named in
 * OTEL_TRACES_EXPORTER other than `none`, and OTEL_SDK_DISABLED is not `true`.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (exporters.length > 0) return !exporters.every((e) => e === 'none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Redis spans name the command and its first key only: arguments may hold message text.
 * Exported for tests.
 */
export function redisStatement(command: string, args: ReadonlyArray<unknown>): string {
  const key = args[0];
  return typeof key === 'string' || Buffer.isBuffer(key) ? `${command} ${String(key)}` : command;
}

/** Paths whose incoming HTTP requests are scrapes and probes, not work worth a trace. */
const UNTRACED_PATHS = new Set(['/metrics', '/health', '/ready', '/live']);

export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const env = options.env ?? process.env;
  if (!tracingRequested(env)) return DISABLED;

  // ESM imports are only patchable through the loader hook, registered before the app loads.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

  const [{ NodeSDK }, { resourceFromAttributes }, { HttpInstrumentation }, { IORedisInstrumentation }, { UndiciInstrumentation }] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('@opentelemetry/instrumentation-undici'),
    ]);

  const attributes: Record<string, string> = {};
  if (!env.OTEL_SERVICE_NAME) attributes['service.name'] = options.serviceName;
  if (options.instance !== undefined) attributes['service.instance.id'] = options.instance;

  const sdk = new NodeSDK({
    resource: resourceFromAttributes(attributes),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
      }),
      // Only commands inside a message's trace: background polling would drown the rest.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: redisStatement }),
      // The openai SDK speaks through fetch (undici); its traceparent header reaches the model.
      new UndiciInstrumentation(),
    ],
  });
  sdk.start();
  current = { enabled: true, shutdown: () => sdk.shutdown().catch(() => undefined) };
  return current;
}

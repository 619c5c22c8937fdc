import { describe, expect, it } from '@jest/globals';
import { redisStatement, tracingRequested } from '../src/telemetry/tracing.js';
import { extractTraceContext, injectTraceContext, traceIdsOf } from '../src/telemetry/trace-context.js';

describe('tracingRequested', () => {
  it('is off with nothing configured', () => {
    expect(tracingRequested({})).toBe(false);
  });
  it('is on with an OTLP endpoint or a named exporter', () => {
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp, none' })).toBe(true);
  });
  it('is off when the exporter is none or the SDK is disabled, whatever else is set', () => {
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(false);
    expect(tracingRequested({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
  });
});

describe('redisStatement', () => {
  it('keeps the command and its key, never the values', () => {
    expect(redisStatement('xadd', ['chat:m:1:frames', 'MAXLEN', '~', 20000, '1-1', 'f', '{"text":"secret"}'])).toBe('xadd chat:m:1:frames');
    expect(redisStatement('publish', [Buffer.from('chat:s:1'), 'hello'])).toBe('publish chat:s:1');
    expect(redisStatement('ping', [])).toBe('ping');
    expect(redisStatement('eval', [42])).toBe('eval');
  });
});

describe('trace context without an SDK', () => {
  it('injects nothing and yields no ids, so an untraced fleet carries no trace fields', () => {
    expect(injectTraceContext()).toBeUndefined();
    expect(traceIdsOf()).toEqual({});
    expect(() => extractTraceContext({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })).not.toThrow();
  });
});

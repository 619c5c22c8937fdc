export * from './trace-context.js';
export * from './redis-metrics.js';
export * from './spans.js';

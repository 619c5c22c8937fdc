export * from './load-options.js';
export * from './run-load.js';
export * from './load-table.js';
export * from './latency-histogram.js';

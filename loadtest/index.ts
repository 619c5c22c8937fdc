export * from './scenarios.js';
export * from './load-table-row.js';
export * from './reply-check.js';

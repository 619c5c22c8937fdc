export * from './scenarios.js';
export * from './load-table-row.js';

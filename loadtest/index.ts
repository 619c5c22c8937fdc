export * from './scenarios.js';
export * from './reply-check.js';

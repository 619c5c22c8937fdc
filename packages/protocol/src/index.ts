export * from './errors.js';
export * from './close-codes.js';
export * from './ids.js';
export * from './pii-kinds.js';
export * from './usage.js';
export * from './client-frames.js';
export * from './server-frames.js';
export * from './rest.js';

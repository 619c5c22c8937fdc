// @chat-fleet/shared/http: node:http plumbing of the JSON servers. Node only, so not in the package's index.
export * from './json-http.js';
export * from './json-server.js';
export * from './server-process.js';

// Ports for processes the launcher starts: a free one from the kernel, or a check that one is free.
import { createServer } from 'node:net';

/** A port that was free on 127.0.0.1 a moment ago; another process may still take it before you do. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the port the kernel gave'))));
    });
  });
}

/** True when nothing listens on the port on any local address (the apps bind 0.0.0.0). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

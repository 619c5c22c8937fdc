// One readiness probe: a GET that answers 200 in time. No keep-alive, so no handle outlives it.
import { get } from 'node:http';

export function httpOk(url: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

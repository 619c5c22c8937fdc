// A forked load process: runs the shard its parent sends and reports ticks and the result over IPC.
import type { ChildMessage, ParentMessage } from './run-load.js';
import { runShard } from './load-shard.js';

const abort = new AbortController();
const send = (m: ChildMessage, then?: () => void): void => {
  process.send?.(m, undefined, {}, () => then?.());
};
const leave = (): void => {
  process.disconnect?.();
  // Sockets may still be closing; the result is already with the parent.
  setTimeout(() => process.exit(0), 200).unref();
};

process.on('message', (m: ParentMessage) => {
  if (m.type === 'stop') {
    abort.abort();
    return;
  }
  runShard(m.spec, { signal: abort.signal, onTick: (counts) => send({ type: 'tick', counts }) })
    .then(
      (result) => send({ type: 'result', result }, leave),
      (err: unknown) => send({ type: 'failed', message: err instanceof Error ? err.message : String(err) }, leave),
    );
});
// The parent stops us with 'stop'; Ctrl-C reaches the whole process group, so let the parent decide.
process.on('SIGINT', () => abort.abort());

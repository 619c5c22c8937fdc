// A child process of the floor run: runs one shard of the users and sends back its counts and histograms.
import { setMaxListeners } from 'node:events';
import { runFloorShard, type FloorChildMessage, type FloorParentMessage } from './model-floor.js';

const abort = new AbortController();
setMaxListeners(0, abort.signal);

function send(message: FloorChildMessage): void {
  process.send?.(message);
}

process.on('message', (m: FloorParentMessage) => {
  if (m.type === 'stop') {
    abort.abort();
    return;
  }
  runFloorShard(m.spec, abort.signal).then(
    (result) => send({ type: 'result', result }),
    (err: unknown) => send({ type: 'failed', message: err instanceof Error ? err.message : String(err) }),
  );
});
// The parent going away ends the shard too.
process.on('disconnect', () => abort.abort());

// Progress of a level: a bar on a terminal, a plain line every few seconds otherwise (CI, logs).
import cliProgress from 'cli-progress';
import type { LoadProgress } from './load-options.js';

export interface ProgressView {
  update(p: LoadProgress): void;
  stop(): void;
}

const PLAIN_EVERY_S = 5;

export function progressView(label: string, totalS: number, stream: NodeJS.WriteStream = process.stderr): ProgressView {
  const fields = (p: LoadProgress) => ({
    level: label,
    secs: Math.floor(p.elapsedS),
    connected: p.connected,
    inFlight: p.inFlight,
    messages: p.messages,
    failures: p.failures,
  });
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{level} [{bar}] {secs}/{total} s | sockets {connected} | in flight {inFlight} | messages {messages} | failed {failures}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        noTTYOutput: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.ceil(totalS), 0, fields({ elapsedS: 0, connected: 0, inFlight: 0, messages: 0, failures: 0 }));
    return {
      update: (p) => bar.update(Math.min(Math.floor(p.elapsedS), Math.ceil(totalS)), fields(p)),
      stop: () => bar.stop(),
    };
  }
  let next = PLAIN_EVERY_S;
  return {
    update: (p) => {
      if (p.elapsedS < next) return;
      next = Math.floor(p.elapsedS / PLAIN_EVERY_S) * PLAIN_EVERY_S + PLAIN_EVERY_S;
      stream.write(
        `${label}: ${Math.floor(p.elapsedS)}/${Math.ceil(totalS)} s, sockets ${p.connected}, in flight ${p.inFlight}, ` +
          `messages ${p.messages}, failed ${p.failures}\n`,
      );
    },
    stop: () => undefined,
  };
}

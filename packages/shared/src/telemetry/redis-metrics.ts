// Metrics of a process's Redis clients: command latency (sampled), reconnects and whether each
// client is up. Labels are bounded: the client's role and the Redis command name.
import type { RedisClient } from '../redis-client.js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** 100 µs to 1 s: loopback Redis answers in tens of µs, a loaded one in ms. */
export const REDIS_COMMAND_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

interface TimedCommand {
  name: string;
  promise: Promise<unknown>;
}

export class RedisClientMetrics {
  readonly commandSeconds: Histogram<'client' | 'command'>;
  readonly reconnects: Counter<'client'>;
  readonly up: Gauge<'client'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.commandSeconds = new Histogram({
      name: 'chat_redis_command_seconds',
      help: 'Redis command round trips as this process sees them (a sample of commands), by client and command',
      labelNames: ['client', 'command'],
      buckets: REDIS_COMMAND_BUCKETS,
      registers,
    });
    this.reconnects = new Counter({ name: 'chat_redis_reconnects_total', help: 'Redis connections re-established after a loss, by client', labelNames: ['client'], registers });
    this.up = new Gauge({ name: 'chat_redis_up', help: '1 while the Redis client is connected and ready, else 0', labelNames: ['client'], registers });
  }

  /**
   * Follows one client: up/down and reconnects from its events, and the latency of one command
   * in `sampleEvery` (1: all). Sampling keeps the hot path (one XADD per token frame) cheap.
   */
  watch(client: RedisClient, name: string, sampleEvery = 16): void {
    const labels = { client: name };
    // The first ready is a connect; every later one is a reconnect after a loss.
    let everReady = client.status === 'ready';
    this.up.set(labels, everReady ? 1 : 0);
    client.on('ready', () => {
      if (everReady) this.reconnects.inc(labels);
      everReady = true;
      this.up.set(labels, 1);
    });
    client.on('close', () => this.up.set(labels, 0));
    client.on('end', () => this.up.set(labels, 0));

    if (sampleEvery <= 0) return;
    const histogram = this.commandSeconds;
    // Redis#sendCommand(command, stream) and Cluster#sendCommand(command, stream, node): fixed
    // arguments, so the hot path allocates nothing.
    const send = client.sendCommand.bind(client) as (command: TimedCommand, stream?: unknown, node?: unknown) => unknown;
    let n = 0;
    (client as unknown as { sendCommand: typeof send }).sendCommand = (command, stream, node) => {
      n = (n + 1) % sampleEvery;
      if (n !== 0) return send(command, stream, node);
      const started = performance.now();
      const result = send(command, stream, node);
      const observe = (): void => histogram.observe({ client: name, command: command.name }, (performance.now() - started) / 1000);
      command.promise.then(observe, observe);
      return result;
    };
  }
}

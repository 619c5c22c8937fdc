// A named child process: started, watched until ready, stopped with a grace period, its output routed.
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpOk } from './http-probe.js';
import { OutputSink, type OutputMode } from './process-output.js';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcessOptions {
  /** Shown in prefixes and errors, e.g. `gateway-1`. */
  name: string;
  /** A Node script run with this Node (`process.execPath`); give this or `command`. */
  script?: string;
  /** Any other executable, e.g. redis-server. */
  command?: string;
  args?: readonly string[];
  /** The child's whole environment; defaults to ours. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Default `'silent'`. */
  output?: OutputMode;
  nameWidth?: number;
  color?: number;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Names what is awaited in the timeout error, e.g. the URL. */
  what?: string;
}

/** Resolves once the child runs (has a pid); rejects when it cannot be spawned at all. */
export async function startProcess(options: ManagedProcessOptions): Promise<ManagedProcess> {
  const command = options.command ?? process.execPath;
  const args = options.script === undefined ? [...(options.args ?? [])] : [options.script, ...(options.args ?? [])];
  if (options.command === undefined && options.script === undefined) {
    throw new Error(`${options.name}: give a script or a command to start`);
  }
  // Own process group: a terminal Ctrl-C reaches only the launcher, which then stops children in order.
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`${options.name}: could not start ${command}: ${err.message}`)));
  });
  return new ManagedProcess(options, child);
}

export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the child has exited and its output is flushed; never rejects. */
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | undefined;
  private readonly sink: OutputSink;

  /** Use startProcess; this expects a child that has already spawned. */
  constructor(options: ManagedProcessOptions, private readonly child: ChildProcess) {
    this.name = options.name;
    this.pid = child.pid ?? -1;
    // Spawning succeeded; later errors (a failed kill) are not fatal to the launcher.
    child.on('error', () => undefined);
    this.sink = new OutputSink(options.name, options.output ?? 'silent', {
      nameWidth: options.nameWidth,
      color: options.color,
    });
    this.sink.note(`${this.name} pid ${this.pid} started ${new Date().toISOString()}`);
    if (child.stdout) this.sink.attach(child.stdout, 'stdout');
    if (child.stderr) this.sink.attach(child.stderr, 'stderr');
    this.exited = new Promise<ProcessExit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        // A grandchild holding our pipes open must not keep `exited` pending forever.
        const late = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
        }, 1000);
        void this.sink.close().then(() => {
          clearTimeout(late);
          resolve({ code, signal });
        });
      });
    });
  }

  /** Whether the child is still running. */
  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The exit, once it happened. */
  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /** The last lines of output, for error messages. */
  tail(): string[] {
    return this.sink.tail();
  }

  /** Sends a signal to the child's process group; a no-op once it has exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exitInfo !== undefined) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      this.child.kill(signal);
    }
  }

  /** Sends `signal`, then SIGKILL after `graceMs`; resolves when the child has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<ProcessExit> {
    if (this.exitInfo !== undefined) return this.exited;
    this.kill(signal);
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once `GET url` answers 200; rejects at once if the child exits first. */
  waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
    return this.waitUntil(() => httpOk(url), { timeoutMs, what: `200 from ${url}` });
  }

  /** Polls `check` until it is true; rejects with the child's last output if it exits or time runs out. */
  async waitUntil(check: () => Promise<boolean>, options: WaitOptions = {}): Promise<void> {
    const { timeoutMs = 30_000, intervalMs = 100, what = 'readiness' } = options;
    const deadline = Date.now() + timeoutMs;
    let gaveUp = false;
    const exitedFirst = this.exited.then((exit) => {
      if (gaveUp) return;
      throw new Error(`${this.name} exited (${describeExit(exit)}) before it was ready${this.formatTail()}`);
    });
    const ready = (async () => {
      while (!gaveUp && this.running) {
        if (await check()) return;
        if (Date.now() >= deadline) {
          throw new Error(`${this.name} was not ready after ${timeoutMs} ms (waiting for ${what})${this.formatTail()}`);
        }
        await sleep(intervalMs);
      }
      // The child died between checks: let `exitedFirst` report it.
      await exitedFirst;
    })();
    // Whichever loses the race must not surface later as an unhandled rejection.
    ready.catch(() => undefined);
    exitedFirst.catch(() => undefined);
    try {
      await Promise.race([ready, exitedFirst]);
    } finally {
      gaveUp = true;
    }
  }

  private formatTail(): string {
    const lines = this.tail();
    return lines.length === 0 ? '; it wrote nothing' : `; its last output:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  }
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal}`;
}

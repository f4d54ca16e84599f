/**
 * Real coordinator and agent processes (`bin/gigafactory.mjs`), for tests that kill them. Their JSON
 * log lines are parsed as they arrive, so tests wait for "listening" or "connected" instead of
 * sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'gigafactory.mjs');

export interface LogLine {
  msg: string;
  [key: string]: unknown;
}

export class ManagedProcess {
  readonly lines: LogLine[] = [];
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;
  /** The exit code once the process has exited and its output is read. */
  private closedWith: number | null | undefined;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stderr! }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as LogLine);
      } catch {
        this.lines.push({ msg: text });
      }
      if (process.env.GIGAFACTORY_TEST_ECHO) process.stderr.write(`[${child.pid}] ${text}\n`);
      this.wake();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    // 'close', not 'exit': by then every line the process wrote has been read.
    child.once('close', (code) => {
      this.closedWith = code;
      this.wake();
    });
  }

  /**
   * The first log line (from `from` on) matching `match`. The time limit is generous (start-up on
   * two cores shared with another test run can take many seconds) and below the test's own, so a
   * miss fails with this message; a process that exits first fails at once, with its last lines.
   */
  async waitFor(match: (line: LogLine) => boolean, from = 0, timeoutMs = 45_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = from; ; ) {
      for (; seen < this.lines.length; seen++) if (match(this.lines[seen]!)) return this.lines[seen]!;
      const last = () => this.lines.slice(-5).map((line) => line.msg).join(' | ');
      if (this.closedWith !== undefined) throw new Error(`pid ${this.child.pid} exited (${this.closedWith}) before the awaited log line; last lines: ${last()}`);
      if (Date.now() > deadline) throw new Error(`no matching log line from pid ${this.child.pid} within ${timeoutMs} ms; last lines: ${last()}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 250);
      });
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

function spawnCli(args: string[], env: Record<string, string> = {}, cwd?: string): ManagedProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, GIGAFACTORY_LOG_LEVEL: 'info', ...env },
    ...(cwd ? { cwd } : {}),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new ManagedProcess(child);
}

export interface CoordinatorProcess extends ManagedProcess {
  grpcAddress: string;
  httpAddress: string;
}

/**
 * Starts `gigafactory serve` and resolves once both listeners are up. Loopback development mode
 * (no credentials needed) unless `secure` is set; `args` are extra serve flags; `cwd` is where a
 * relative `dataDir` starts from.
 */
export async function spawnCoordinator(opts: { dataDir: string; grpcPort?: number; httpPort?: number; env?: Record<string, string>; secure?: boolean; args?: string[]; cwd?: string }): Promise<CoordinatorProcess> {
  const proc = spawnCli(
    ['serve', '--data-dir', opts.dataDir, '--grpc-port', String(opts.grpcPort ?? 0), '--http-port', String(opts.httpPort ?? 0), ...(opts.secure ? [] : ['--insecure-dev']), ...(opts.args ?? [])],
    opts.env,
    opts.cwd,
  );
  return ready(proc, async () => {
    const grpc = await proc.waitFor((l) => l.msg === 'listening' && l.listener === 'grpc');
    const http = await proc.waitFor((l) => l.msg === 'listening' && l.listener === 'http');
    return Object.assign(proc, { grpcAddress: String(grpc.address), httpAddress: String(http.address) });
  });
}

/**
 * Resolves with what `started` gives once the process is up. A process that does not come up in time is
 * killed before the error is thrown: the caller never got it, so nothing else would stop it, and
 * such orphans (agents reconnecting forever) load the machine for every later test.
 */
async function ready<T>(proc: ManagedProcess, started: () => Promise<T>): Promise<T> {
  try {
    return await started();
  } catch (err) {
    await proc.kill('SIGKILL');
    throw err;
  }
}

/** Starts `gigafactory agent` and resolves once it is connected (within `readyTimeoutMs`, default 20 s); `env` is added to its environment. */
export async function spawnAgent(opts: { coordinator: string; id: string; workDir: string; slots?: number; labels?: string[]; args?: string[]; env?: Record<string, string>; readyTimeoutMs?: number }): Promise<ManagedProcess> {
  const labels = (opts.labels ?? []).flatMap((l) => ['--label', l]);
  const proc = spawnCli(['--coordinator', opts.coordinator, 'agent', '--id', opts.id, '--work-dir', opts.workDir, '--slots', String(opts.slots ?? 1), ...labels, ...(opts.args ?? [])], opts.env);
  return ready(proc, async () => {
    await proc.waitFor((l) => l.msg === 'connected', 0, opts.readyTimeoutMs);
    return proc;
  });
}

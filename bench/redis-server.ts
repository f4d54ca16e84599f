/**
 * A throwaway `redis-server` for the BullMQ comparison: found on PATH (or /usr/bin), started on a free
 * loopback port with a temp dir of its own and no RDB snapshots, append-only file on with the fsync
 * policy asked for, and killed (temp dir removed) at the end. The Debian package is enough:
 * `sudo apt-get install redis-server`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';

/** appendfsync: `everysec` may lose the last second of acknowledged writes on a crash; `always` fsyncs every write. */
export type AppendFsync = 'everysec' | 'always';

export interface RedisServer {
  host: string;
  port: number;
  pid: number;
  version: string;
  /** User + system CPU seconds the server has used so far (from /proc; NaN where there is none). */
  cpuSeconds(): number;
  /** Resident memory now, in MiB (from /proc; NaN where there is none). */
  rssMb(): number;
  stop(): Promise<void>;
}

/** The redis-server binary, or null when it is not installed. */
export function findRedisServer(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** A port nothing listens on right now (redis-server cannot be asked for port 0 and report it back). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function procStat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

export async function startRedisServer(binary: string, appendfsync: AppendFsync): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gigafactory-bench-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', appendfsync, '--daemonize', 'no', '--loglevel', 'notice'];
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const version = await new Promise<string>((resolve, reject) => {
    let found = 'unknown';
    const timer = setTimeout(() => reject(new Error(`redis-server did not get ready within 10 s:\n${output.join('\n')}`)), 10_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      found = /version=([\d.]+)/.exec(line)?.[1] ?? /v=([\d.]+)/.exec(line)?.[1] ?? found;
      if (line.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited before it was ready:\n${output.join('\n')}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  // A bench that dies must not leave a Redis behind.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const ticks = 100; // USER_HZ on Linux
  const pid = child.pid!;
  return {
    host: '127.0.0.1',
    port,
    pid,
    version,
    cpuSeconds() {
      const f = procStat(pid);
      return f ? (Number(f[11]) + Number(f[12])) / ticks : Number.NaN;
    },
    rssMb() {
      const f = procStat(pid);
      return f ? (Number(f[21]) * 4096) / 2 ** 20 : Number.NaN;
    },
    async stop() {
      process.off('exit', killOnExit);
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The real coordinator (startServer over SQLite in a fresh temp dir, ports 0, logs silent) in a
 * child process of its own, so its CPU time and peak RSS are its own. The parent talks to it over
 * the fork IPC channel: `sample` returns CPU, memory and store counters; `stop` closes the server,
 * counts rows in the SQLite file and removes the temp dir.
 *
 * Store writes are counted twice. The JobStore handed to startServer is wrapped, counting every
 * insertJob / replaceJob / appendLog call (write operations) and every read. Transactions are
 * counted by the SQLite provider itself (SqliteJobStore.commitStats): it group-commits, so one
 * commit (one fsync with synchronous = FULL) carries every write issued in one event-loop turn, and
 * the time it spent running batches, commit included, is time its only thread did nothing else.
 *
 * BENCH_CPU_PROF=<dir> (`npm run bench -- --cpu-prof <dir>`) profiles the measured phase only: the
 * child starts V8's profiler (node:inspector) when it takes the sample that opens the phase and stops
 * it when it takes the one that closes it, writes the profile to <dir> (open it in Chrome DevTools)
 * and answers with where the CPU went (cpu-breakdown.ts). Start-up, warm-up and shutdown stay out.
 *
 * This file is both the child's entry point (when run as the main module) and the parent's handle
 * (`spawnCoordinator`).
 */
import Database from 'better-sqlite3';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Session, type Profiler } from 'node:inspector';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { cpuBreakdown, type CpuBreakdown } from './cpu-breakdown.js';
import type { JobEventRecord } from '../src/domain/job.js';
import type { JobStore } from '../src/store/job-store.js';

// ───────────────────────────── protocol ─────────────────────────────

export interface StoreCounters {
  /** Committed write operations (insertJob, replaceJob, appendLog that resolved). */
  writeOps: number;
  /** Committed write operations by what they recorded: the event kind, or "log" for appendLog. */
  writeOpsByKind: Record<string, number>;
  /** Write operations that threw and were rolled back (revision conflicts, refusals). */
  rolledBack: number;
  /** Committed transactions, counted by the SQLite store (each one fsync); 0 for other providers. */
  commits: number;
  /** Milliseconds the SQLite store's thread spent running batches (SQLite's work, checkpoints included). */
  commitMs: number;
  /** Milliseconds from each commit to the end of its WAL fsync (off the thread), summed. */
  syncMs: number;
  /** The most write operations one commit carried. */
  largestBatch: number;
  /** Read calls (getJob, listRunnable, listExpiredLeases, ...). */
  reads: number;
  readsByMethod: Record<string, number>;
  /** Milliseconds inside read calls. */
  readMs: number;
}

export interface ChildSample {
  cpu: NodeJS.CpuUsage;
  /** process.resourceUsage().maxRSS: the peak resident set since the child started, in KiB. */
  maxRssKb: number;
  rssBytes: number;
  heapUsedBytes: number;
  store: StoreCounters;
  /** Event-loop delay since the previous sample, in ms: how long ready work waited for the thread. */
  loopDelay: { p50: number; p99: number; max: number };
  /** With BENCH_CPU_PROF, on the sample that closes a profiled phase: where its CPU went. */
  cpuBreakdown?: CpuBreakdown;
}

export interface FileStats {
  jobs: number;
  events: number;
  logs: number;
  eventsByKind: Record<string, number>;
  /** Size of the database file after the closing checkpoint folded the WAL into it. */
  fileBytes: number;
}

/** `profile` (only with BENCH_CPU_PROF): start the profiler after this sample, or stop it before. */
type ToChild = { t: 'sample'; id: number; profile?: 'start' | 'stop' } | { t: 'stop'; id: number };
type FromChild =
  | { t: 'ready'; grpcAddress: string; httpAddress: string }
  | { t: 'sample'; id: number; sample: ChildSample }
  | { t: 'stopped'; id: number; file: FileStats }
  | { t: 'failed'; message: string };

// ───────────────────────────── parent side ─────────────────────────────

export interface CoordinatorHandle {
  pid: number;
  grpcAddress: string;
  /**
   * `phase` 'start' / 'end' mark the measured phase: with BENCH_CPU_PROF the child profiles what lies
   * between them, and the 'end' sample carries the breakdown.
   */
  sample(phase?: 'start' | 'end'): Promise<ChildSample>;
  /** Closes the server and returns what the SQLite file holds; the child then exits. */
  stop(): Promise<FileStats>;
  /** Kills the child (after a failure). */
  kill(): void;
}

const THIS_FILE = fileURLToPath(import.meta.url);

export type Synchronous = 'full' | 'normal' | 'off';

/**
 * Starts the coordinator child. `synchronous` other than 'full' (the product's setting) overrides
 * SQLite's commit durability, to see what the coordinator does when commits are not fsynced.
 */
export async function spawnCoordinator(opts: { synchronous?: Synchronous; label?: string } = {}): Promise<CoordinatorHandle> {
  const profiling = Boolean(process.env.BENCH_CPU_PROF);
  const child: ChildProcess = fork(THIS_FILE, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_SQLITE_SYNCHRONOUS: opts.synchronous ?? 'full', BENCH_PROFILE_LABEL: opts.label ?? 'coordinator' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (m: FromChild) => void; reject: (e: Error) => void }>();
  let exited: Error | null = null;

  const ready = new Promise<{ grpcAddress: string }>((resolve, reject) => {
    child.on('message', (raw) => {
      const m = raw as FromChild;
      if (m.t === 'ready') resolve(m);
      else if (m.t === 'failed') reject(new Error(`coordinator child failed: ${m.message}`));
      else {
        const waiter = pending.get(m.id);
        pending.delete(m.id);
        waiter?.resolve(m);
      }
    });
    child.once('exit', (code, signal) => {
      exited = new Error(`coordinator child exited (code ${code}, signal ${signal})`);
      reject(exited);
      for (const w of pending.values()) w.reject(exited);
      pending.clear();
    });
  });
  const { grpcAddress } = await ready;

  const ask = (t: ToChild['t'], profile?: 'start' | 'stop'): Promise<FromChild> =>
    new Promise((resolve, reject) => {
      if (exited) return reject(exited);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ t, id, ...(profile ? { profile } : {}) } satisfies ToChild);
    });

  return {
    pid: child.pid!,
    grpcAddress,
    async sample(phase) {
      const m = await ask('sample', profiling && phase ? (phase === 'start' ? 'start' : 'stop') : undefined);
      if (m.t !== 'sample') throw new Error(`unexpected answer ${m.t}`);
      return m.sample;
    },
    async stop() {
      const m = await ask('stop');
      if (m.t !== 'stopped') throw new Error(`unexpected answer ${m.t}`);
      await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      return m.file;
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

// ───────────────────────────── child side ─────────────────────────────

/** The JobStore methods that write; the SQLite provider commits those of one event-loop turn together. */
const WRITES: Record<string, (args: unknown[]) => string> = {
  insertJob: (args) => (args[1] as JobEventRecord).kind,
  replaceJob: (args) => (args[1] as JobEventRecord | null)?.kind ?? 'no_event',
  appendLog: () => 'log',
};

/**
 * Wraps the real store and counts (and times) every call. A Proxy rather than a class so that
 * methods added to JobStore later pass through untouched (and are counted as reads).
 */
function countingStore(inner: JobStore): { store: JobStore; counters: StoreCounters } {
  const counters: StoreCounters = { writeOps: 0, writeOpsByKind: {}, rolledBack: 0, commits: 0, commitMs: 0, syncMs: 0, largestBatch: 0, reads: 0, readsByMethod: {}, readMs: 0 };
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      // Called on the real store, not the proxy: the SQLite provider keeps its state in #private fields.
      if (typeof property !== 'string' || property === 'close') return method.bind(target);
      const writeKind = WRITES[property];
      return (...args: unknown[]): Promise<unknown> => {
        if (!writeKind) {
          const started = performance.now();
          const promise = method.apply(target, args); // SQLite reads run to completion before returning
          counters.readMs += performance.now() - started;
          counters.reads++;
          counters.readsByMethod[property] = (counters.readsByMethod[property] ?? 0) + 1;
          return promise;
        }
        return method.apply(target, args).then(
          (result) => {
            const kind = writeKind(args);
            counters.writeOps++;
            counters.writeOpsByKind[kind] = (counters.writeOpsByKind[kind] ?? 0) + 1;
            return result;
          },
          (err: unknown) => {
            counters.rolledBack++;
            throw err;
          },
        );
      };
    },
  });
  return { store, counters };
}

/** The SQLite store's own count of commits (the wrapper sees calls, not transactions). */
function commitCounters(inner: JobStore): Pick<StoreCounters, 'commits' | 'commitMs' | 'syncMs' | 'largestBatch'> {
  const stats = (inner as { commitStats?: { commits: number; commitMs: number; syncMs: number; largestBatch: number } }).commitStats;
  return { commits: stats?.commits ?? 0, commitMs: stats?.commitMs ?? 0, syncMs: stats?.syncMs ?? 0, largestBatch: stats?.largestBatch ?? 0 };
}

function countFile(path: string): FileStats {
  const db = new Database(path, { readonly: true });
  try {
    const count = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const eventsByKind: Record<string, number> = {};
    const rows = db.prepare(`SELECT json_extract(doc, '$.kind') AS kind, count(*) AS n FROM events GROUP BY 1`).all() as { kind: string; n: number }[];
    for (const r of rows) eventsByKind[r.kind] = r.n;
    return { jobs: count('jobs'), events: count('events'), logs: count('logs'), eventsByKind, fileBytes: statSync(path).size };
  } finally {
    db.close();
  }
}

async function childMain(): Promise<void> {
  const send = (m: FromChild): void => void process.send!(m);
  const dataDir = mkdtempSync(join(tmpdir(), 'gigafactory-bench-'));
  const dbPath = join(dataDir, 'gigafactory.sqlite');
  try {
    // Imported here so the parent, which imports this module for spawnCoordinator, does not load the coordinator.
    const { ServeConfigSchema } = await import('../src/config.js');
    const { createLogger } = await import('../src/logging.js');
    const { startServer } = await import('../src/server/app.js');
    const { applyHeapGrowth } = await import('../src/server/heap-growth.js');
    const { openStore } = await import('../src/store/open-store.js');
    const { openConnection } = await import('../src/store/sqlite/connection.js');
    const { SqliteJobStore } = await import('../src/store/sqlite/index.js');

    // Loopback development mode, as in test/support/server.ts: the factories and submitters carry no
    // credentials, so the figures are dispatch, not token checks.
    // GIGAFACTORY_HEAP_GROWING_PERCENT as `gigafactory serve` reads it, so its trade-off can be measured.
    const heapGrowingPercent = process.env.GIGAFACTORY_HEAP_GROWING_PERCENT;
    const config = ServeConfigSchema.parse({ dataDir, grpcPort: 0, httpPort: 0, logLevel: 'silent', shutdownGraceMs: 250, insecureDev: true, ...(heapGrowingPercent ? { heapGrowingPercent } : {}) });
    // The heap growth `gigafactory serve` would set with the same setting, so memory figures are the product's.
    applyHeapGrowth(config.heapGrowingPercent);
    const log = createLogger({ level: 'silent', pretty: false });
    const synchronous = process.env.BENCH_SQLITE_SYNCHRONOUS ?? 'full';
    let inner: JobStore;
    if (synchronous === 'full') {
      inner = openStore({ kind: 'sqlite', path: dbPath }); // exactly what the product opens
    } else {
      const db = openConnection(dbPath);
      db.pragma(`synchronous = ${synchronous === 'off' ? 'OFF' : 'NORMAL'}`);
      inner = new SqliteJobStore(db);
    }
    const { store, counters } = countingStore(inner);
    const server = await startServer({ config, log, store });
    // Each sample is the lateness of a 10 ms timer; the 10 ms themselves are taken off below.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const lateMs = (ns: number): number => Math.max(0, ns / 1e6 - 10);

    const profiler = process.env.BENCH_CPU_PROF ? measuredPhaseProfiler(process.env.BENCH_CPU_PROF, process.env.BENCH_PROFILE_LABEL ?? 'coordinator') : null;

    const sampleNow = (): ChildSample => {
      const mem = process.memoryUsage();
      const sample: ChildSample = {
        cpu: process.cpuUsage(),
        maxRssKb: process.resourceUsage().maxRSS,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        store: { ...structuredClone(counters), ...commitCounters(inner) },
        loopDelay: { p50: lateMs(loopDelay.percentile(50)), p99: lateMs(loopDelay.percentile(99)), max: lateMs(loopDelay.max) },
      };
      loopDelay.reset();
      return sample;
    };
    const answerSample = async (m: Extract<ToChild, { t: 'sample' }>): Promise<void> => {
      // The CPU figure is read first: writing and summarising the profile is not the coordinator's work.
      const sample = sampleNow();
      const cpuBreakdown = m.profile === 'stop' && profiler ? await profiler.stop() : undefined;
      send({ t: 'sample', id: m.id, sample: { ...sample, ...(cpuBreakdown ? { cpuBreakdown } : {}) } });
      if (m.profile === 'start' && profiler) await profiler.start();
    };

    process.on('message', (raw) => {
      const m = raw as ToChild;
      if (m.t === 'sample') void answerSample(m);
      else if (m.t === 'stop') {
        void (async () => {
          await server.close();
          const file = countFile(dbPath);
          rmSync(dataDir, { recursive: true, force: true });
          send({ t: 'stopped', id: m.id, file });
          process.disconnect();
        })();
      }
    });
    // Ctrl-C reaches the whole process group: let the parent die first, then clean up on disconnect.
    process.on('SIGINT', () => {});
    // The parent going away (crash, Ctrl-C) must not leave a coordinator running or its temp dir behind.
    process.once('disconnect', () => {
      void server.close().finally(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
    });
    send({ t: 'ready', grpcAddress: server.grpc.address, httpAddress: server.http.address });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    send({ t: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  }
}

/** V8's sampling profiler on this thread, started and stopped on request; each stop writes one file. */
function measuredPhaseProfiler(dir: string, label: string): { start(): Promise<void>; stop(): Promise<CpuBreakdown> } {
  const session = new Session();
  session.connect();
  const post = <T>(method: string): Promise<T> =>
    new Promise((resolve, reject) => session.post(method, (err: Error | null, result?: unknown) => (err ? reject(err) : resolve(result as T))));
  let phase = 0;
  return {
    async start() {
      await post('Profiler.enable');
      await post('Profiler.start');
    },
    async stop() {
      const { profile } = await post<{ profile: Profiler.Profile }>('Profiler.stop');
      phase++;
      writeFileSync(join(dir, `${label.replace(/[^\w.-]+/g, '-')}-${process.pid}-${phase}.cpuprofile`), JSON.stringify(profile));
      return cpuBreakdown(profile);
    },
  };
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.send) {
  void childMain();
}

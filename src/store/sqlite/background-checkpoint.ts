/**
 * WAL checkpoints off the coordinator's thread. SQLite runs a checkpoint inside whichever commit
 * takes the WAL past `wal_autocheckpoint` pages (1,000 by default): that commit copies the log into
 * the database file and fsyncs it on the caller's thread. On this repository's 2-core VM that made
 * about 1.6 % of commits take 6–10 ms instead of 0.1 ms, and a third of all the time commits took
 * (3,000 commits of ten 1 KB rows: p99 6.2 ms and 655 ms in all, against 0.38 ms and 424 ms with
 * automatic checkpoints off), and the thread that commits is the one serving every stream: those
 * stalls were the dispatch latency's tail.
 *
 * Here the connection's automatic checkpoints are turned off and a worker thread, with a connection
 * of its own to the same file, runs a PASSIVE checkpoint every CHECKPOINT_INTERVAL_MS (sooner under
 * heavy writes). PASSIVE never waits for and never blocks readers or writers; it copies what no
 * reader still needs, syncing the WAL first and the database file after (its connection is
 * synchronous = FULL), so it never makes a commit less durable. The worker starts only once a store
 * has written something worth folding (START_AFTER_WRITES), so a short-lived store (a CLI command,
 * a test) never pays for a thread.
 *
 * If the worker cannot start or dies, the connection goes back to SQLite's automatic checkpoints:
 * the WAL must never grow without bound.
 */
import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * A checkpoint every second, and every 100 ms while the WAL grew by 1,000 frames or more since the
 * last one (SQLite's own threshold): few extra fsyncs when writes are light, a short WAL when they
 * are heavy.
 */
export const CHECKPOINT_INTERVAL_MS = 1_000;
const BUSY_CHECKPOINT_INTERVAL_MS = 100;
const START_AFTER_WRITES = 256;
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1_000;

/** What the worker did: counted, so the benchmark can show it. */
export interface CheckpointStats {
  /** Checkpoints that copied at least one page. */
  runs: number;
  /** WAL frames copied into the database file. */
  framesCopied: number;
  /** Why the worker stopped working, if it did (automatic checkpoints are back on then). */
  failure: string | null;
}

/** Runs in the worker (CommonJS, evaluated): one connection, one PASSIVE checkpoint per tick. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('synchronous = FULL');
let timer = null;
// The pragma reports the WAL's frames and how many of them are in the database file so far; a WAL
// shorter than the last time was begun anew by a writer once everything in it had been copied.
let last = { log: 0, checkpointed: 0 };
const tick = () => {
  const [row] = db.pragma('wal_checkpoint(PASSIVE)');
  const restarted = row.log < last.log;
  const grown = restarted ? row.log : row.log - last.log;
  const copied = Math.max(0, restarted ? row.checkpointed : row.checkpointed - last.checkpointed);
  last = row;
  if (copied > 0) parentPort.postMessage({ framesCopied: copied });
  timer = setTimeout(tick, grown >= workerData.busyFrames ? workerData.busyIntervalMs : workerData.intervalMs);
};
timer = setTimeout(tick, workerData.intervalMs);
parentPort.on('message', () => {
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

export class BackgroundCheckpoint {
  readonly stats: CheckpointStats = { runs: 0, framesCopied: 0, failure: null };
  readonly #db: Database.Database;
  #writes = 0;
  #worker: Worker | null = null;
  /** Settles when the worker's thread has ended, however it ended. */
  #exited: Promise<void> = Promise.resolve();
  #stopping = false;

  /** Takes over checkpoints of a file-backed WAL connection; any other connection is left as it is. */
  static for(db: Database.Database): BackgroundCheckpoint | null {
    const wal = db.pragma('journal_mode', { simple: true }) === 'wal' && !db.memory;
    return wal ? new BackgroundCheckpoint(db) : null;
  }

  private constructor(db: Database.Database) {
    this.#db = db;
    db.pragma('wal_autocheckpoint = 0');
  }

  /** Counts a write; the worker starts once there were enough of them. */
  noteWrite(): void {
    if (this.#worker || this.#stopping || this.stats.failure || ++this.#writes < START_AFTER_WRITES) return;
    this.#start();
  }

  /** Stops the worker (it finishes the checkpoint it is in); the caller then closes the connection. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#worker?.postMessage('stop');
    await this.#exited;
  }

  #start(): void {
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          driver: createRequire(import.meta.url).resolve('better-sqlite3'),
          path: this.#db.name,
          intervalMs: CHECKPOINT_INTERVAL_MS,
          busyIntervalMs: BUSY_CHECKPOINT_INTERVAL_MS,
          busyFrames: SQLITE_DEFAULT_AUTOCHECKPOINT,
        },
      });
    } catch (error) {
      return this.#fail(error);
    }
    worker.unref(); // a store someone forgot to close must not keep the process alive
    this.#exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: { framesCopied: number }) => {
      this.stats.runs++;
      this.stats.framesCopied += m.framesCopied;
    });
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => {
      if (!this.#stopping) this.#fail(new Error(`checkpoint worker exited with code ${code}`));
    });
    this.#worker = worker;
  }

  #fail(error: unknown): void {
    if (this.stats.failure) return;
    this.stats.failure = error instanceof Error ? error.message : String(error);
    if (this.#db.open) this.#db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
  }
}

/**
 * Group commit for a synchronous SQLite connection: write operations issued in the same event-loop
 * turn (or while the previous batch is being synced to disk) are run in ONE IMMEDIATE transaction,
 * so they share one commit and therefore one fsync. The fsync, not SQLite's work, is what a durable
 * write costs, so a batch of n writes costs about what one did.
 *
 * Each operation keeps its own outcome: it runs inside a SAVEPOINT (better-sqlite3 turns a nested
 * transaction into one), so an operation that throws (a lost compare-and-set) is rolled back alone
 * and rejects alone, while the others in the batch commit. If the transaction itself fails, every
 * operation of the batch rejects with that error. Operations run in the order they were queued and
 * see each other's writes, so two inserts with one idempotency key in one batch act as two in a row.
 *
 * The fsync happens off the main thread. On a connection opened with synchronous = FULL, the
 * transaction commits with synchronous = NORMAL (SQLite writes the WAL frames but does not sync
 * them; it still syncs at checkpoints, so the file cannot be corrupted) and then the WAL file is
 * fdatasync'ed on libuv's thread pool. Only after that sync do the batch's promises settle (rule 1:
 * nothing is acknowledged before it is durable), and meanwhile the event loop keeps serving streams
 * and the next batch grows. Until the sync is done the batch is committed but not yet durable, so
 * readers wait for `durable()` first: nobody sees, and acts on, a write that a crash could still
 * undo. One batch is in flight at a time; the next is committed when the sync finished. (Syncing
 * inline when the disk is fast was tried: on this repository's 2-core VM it lowered peak jobs/s and
 * did not improve latency at a steady rate, so the hand-off stays.)
 *
 * On a connection opened with synchronous = NORMAL or OFF (the benchmark's not-the-product modes)
 * nothing is synced here and batches settle as soon as they commit.
 */
import type Database from 'better-sqlite3';
import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';

/** What the batching did so far: commits are counted, not estimated (the benchmark reports them). */
export interface GroupCommitStats {
  /** Transactions committed (each one fsync with synchronous = FULL). */
  commits: number;
  /** Operations that committed (resolved). */
  committedOps: number;
  /** Operations rolled back to their savepoint (they threw; their promise rejected). */
  rolledBackOps: number;
  /** Milliseconds the main thread spent running batches (SQLite's work; the WAL sync is off-thread). */
  commitMs: number;
  /** Milliseconds from the end of each commit to the end of its off-thread WAL sync, summed. */
  syncMs: number;
  /** The largest batch so far. */
  largestBatch: number;
}

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** SQLite's PRAGMA synchronous values. */
const SYNCHRONOUS_NORMAL = 1;
const SYNCHRONOUS_FULL = 2;

export class GroupCommit {
  readonly #db: Database.Database;
  readonly #runOne: (run: () => unknown) => unknown;
  /** The WAL file, opened on the first sync, when commits are made durable here (null: not our job). */
  readonly #walPath: string | null;
  #walFd: number | null = null;
  #queue: Pending[] = [];
  #scheduled = false;
  /** The sync of the batch in flight; settles (never rejects) when it is durable or failed. */
  #syncing: Promise<void> | null = null;
  readonly stats: GroupCommitStats = { commits: 0, committedOps: 0, rolledBackOps: 0, commitMs: 0, syncMs: 0, largestBatch: 0 };

  constructor(db: Database.Database) {
    this.#db = db;
    // Called inside the batch's transaction, this is a SAVEPOINT ... RELEASE (ROLLBACK TO when it throws).
    this.#runOne = db.transaction((run: () => unknown) => run());
    const durable = (db.pragma('synchronous', { simple: true }) as number) >= SYNCHRONOUS_FULL;
    const wal = db.pragma('journal_mode', { simple: true }) === 'wal' && !db.memory;
    this.#walPath = durable && wal ? `${db.name}-wal` : null;
    if (this.#walPath) db.pragma(`synchronous = ${SYNCHRONOUS_NORMAL}`); // we sync the WAL ourselves, off-thread
  }

  /** Queues `run` for the next batch; resolves with its result once that batch is committed and durable. */
  enqueue<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /**
   * Resolves when no committed write is waiting for its sync: a read made then sees only durable
   * data. Null when nothing is in flight, so readers pay nothing then.
   */
  durable(): Promise<void> | null {
    return this.#syncing;
  }

  /** Waits for the batch in flight, then commits and syncs whatever is still queued (before closing). */
  async close(): Promise<void> {
    while (this.#syncing) await this.#syncing;
    this.#flush();
    while (this.#syncing) await this.#syncing;
    if (this.#walFd !== null) closeSync(this.#walFd);
    this.#walFd = null;
  }

  #schedule(): void {
    if (this.#scheduled || this.#syncing || this.#queue.length === 0) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: the writes of every I/O callback of this turn join the batch.
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    if (batch.length === 0 || this.#syncing) return;
    this.#queue = [];
    const started = performance.now();
    let outcomes: Outcome[];
    try {
      outcomes = this.#db.transaction(() => batch.map((op) => this.#attempt(op))).immediate();
    } catch (error) {
      // BEGIN or COMMIT failed (disk full, I/O error, busy beyond the timeout): nothing was written.
      this.stats.commitMs += performance.now() - started;
      for (const op of batch) op.reject(error);
      this.#schedule();
      return;
    }
    const committed = performance.now();
    this.stats.commitMs += committed - started;
    this.stats.commits++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    if (this.#walPath === null) return this.#settle(batch, outcomes, null);
    let wal: number;
    try {
      wal = this.#wal();
    } catch (error) {
      return this.#settle(batch, outcomes, error as Error); // the WAL could not be opened: nothing is known durable
    }
    this.#syncing = new Promise<void>((done) => {
      fdatasync(wal, (error) => {
        this.stats.syncMs += performance.now() - committed;
        this.#syncing = null;
        // A failed sync leaves the batch's durability unknown: every operation reports the error.
        this.#settle(batch, outcomes, error);
        done();
        this.#schedule();
      });
    });
  }

  /** The WAL's descriptor; the first time, also syncs its directory so the WAL file itself survives a crash. */
  #wal(): number {
    if (this.#walFd === null) {
      this.#walFd = openSync(this.#walPath!, 'r+');
      syncDirectory(dirname(this.#walPath!));
    }
    return this.#walFd;
  }

  #settle(batch: Pending[], outcomes: Outcome[], syncError: Error | null): void {
    if (syncError) {
      for (const op of batch) op.reject(syncError);
      return;
    }
    batch.forEach((op, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) {
        this.stats.committedOps++;
        op.resolve(outcome.value);
      } else {
        this.stats.rolledBackOps++;
        op.reject(outcome.error);
      }
    });
  }

  #attempt(op: Pending): Outcome {
    try {
      return { ok: true, value: this.#runOne(op.run) };
    } catch (error) {
      return { ok: false, error };
    }
  }
}

/** Makes a newly created file's directory entry durable; not possible (nor needed) on every platform. */
function syncDirectory(path: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open a directory; NTFS journals the entry itself.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Group commit in the SQLite store: the writes of one event-loop turn share one transaction (one
 * fsync), each keeps its own outcome, nothing is acknowledged before the commit, and reads see
 * exactly what was committed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accept, offer } from '../../src/domain/lifecycle.js';
import { RevisionConflict } from '../../src/store/job-store.js';
import { GroupCommit } from '../../src/store/sqlite/group-commit.js';
import { openSqliteStore, type SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { T0, TIMINGS, chunk, insertSubmitted, submitted } from './builders.js';

describe('sqlite store group commit', () => {
  let dir: string;
  let path: string;
  let store: SqliteJobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gigafactory-group-commit-'));
    path = join(dir, 'jobs.sqlite');
    store = openSqliteStore(path);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('commits the writes of one turn in one transaction', async () => {
    const before = { ...store.commitStats };
    const jobs = ['a', 'b', 'c', 'd', 'e'].map((id) => submitted(id, T0));
    await Promise.all(jobs.map(({ job, event }) => store.insertJob(job, event)));
    expect(store.commitStats.commits - before.commits).toBe(1);
    expect(store.commitStats.committedOps - before.committedOps).toBe(5);

    const offers = jobs.map(({ job }) => offer(job, 'f1', T0 + 1, TIMINGS));
    await Promise.all([...offers.map((o) => store.replaceJob(o.job, o.event)), store.appendLog(chunk('a', 0, 0, 'x'))]);
    expect(store.commitStats.commits - before.commits).toBe(2);
    expect(store.commitStats.largestBatch).toBe(6);
  });

  it('rolls back only the losing compare-and-set of a batch and counts it', async () => {
    const job = await insertSubmitted(store, 'j1', T0);
    const before = { ...store.commitStats };
    const winner = offer(job, 'f1', T0 + 1, TIMINGS);
    const loser = offer(job, 'f2', T0 + 1, TIMINGS);
    const settled = await Promise.allSettled([store.replaceJob(winner.job, winner.event), store.replaceJob(loser.job, loser.event)]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected']);
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(RevisionConflict);
    expect(store.commitStats.commits - before.commits).toBe(1);
    expect(store.commitStats.rolledBackOps - before.rolledBackOps).toBe(1);
  });

  it('applies writes of one batch in the order they were issued, each seeing the previous', async () => {
    const job = await insertSubmitted(store, 'j1', T0);
    const offered = offer(job, 'f1', T0 + 1, TIMINGS);
    const accepted = accept(offered.job, 'f1', offered.job.epoch, T0 + 2, TIMINGS);
    await Promise.all([store.replaceJob(offered.job, offered.event), store.replaceJob(accepted.job, accepted.event)]);
    expect(await store.getJob('j1')).toStrictEqual(accepted.job);
    expect((await store.listEvents('j1')).map((e) => e.kind)).toEqual(['submitted', 'offered', 'started']);
  });

  it('returns the first job to a second insert with the same idempotency key in the same batch', async () => {
    const first = submitted('first', T0, { idempotencyKey: 'k' });
    const second = submitted('second', T0 + 1, { idempotencyKey: 'k' });
    const [a, b] = await Promise.all([store.insertJob(first.job, first.event), store.insertJob(second.job, second.event)]);
    expect(a).toStrictEqual({ job: first.job, created: true });
    expect(b).toStrictEqual({ job: first.job, created: false });
    expect(await store.getJob('second')).toBeNull();
  });

  it('shows a queued write to no reader before its commit, and to every reader after it resolves', async () => {
    const job = await insertSubmitted(store, 'j1', T0);
    const offered = offer(job, 'f1', T0 + 1, TIMINGS);
    const writing = store.replaceJob(offered.job, offered.event);
    const other = new Database(path, { readonly: true });
    try {
      const revisionIn = (db: Database.Database) => (db.prepare('SELECT revision FROM jobs WHERE id = ?').get('j1') as { revision: number }).revision;
      // Not acknowledged yet, so not committed: neither this store nor another connection sees it.
      expect(await store.getJob('j1')).toStrictEqual(job);
      expect(revisionIn(other)).toBe(job.revision);
      await writing;
      expect(await store.getJob('j1')).toStrictEqual(offered.job);
      expect(revisionIn(other)).toBe(offered.job.revision);
    } finally {
      other.close();
    }
  });

  it('commits writes still queued when the store is closed, and refuses writes after', async () => {
    const { job, event } = submitted('late', T0);
    const inserting = store.insertJob(job, event);
    await store.close();
    await expect(inserting).resolves.toMatchObject({ created: true });
    await expect(store.insertJob(submitted('later', T0).job, submitted('later', T0).event)).rejects.toThrow('the job store is closed');
    store = openSqliteStore(path);
    expect(await store.getJob('late')).toStrictEqual(job);
  });
});

describe('GroupCommit', () => {
  let db: Database.Database;
  let commits: GroupCommit;
  beforeEach(() => {
    db = new Database(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    commits = new GroupCommit(db);
  });
  afterEach(() => db.close());

  const insert = (k: string) => () => db.prepare('INSERT INTO t (k) VALUES (?)').run(k).changes;
  const keys = () => (db.prepare('SELECT k FROM t ORDER BY k').all() as { k: string }[]).map((r) => r.k);

  it('undoes the partial writes of an operation that throws, keeping the rest of the batch', async () => {
    const settled = await Promise.allSettled([
      commits.enqueue(insert('a')),
      commits.enqueue(() => {
        insert('b')();
        throw new Error('second thoughts');
      }),
      commits.enqueue(insert('c')),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'second thoughts' });
    expect(keys()).toEqual(['a', 'c']);
    expect(commits.stats).toMatchObject({ commits: 1, committedOps: 2, rolledBackOps: 1, largestBatch: 3 });
  });

  it('rejects every operation of a batch whose transaction cannot begin, and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gigafactory-group-commit-'));
    const file = new Database(join(dir, 'locked.sqlite'));
    const holder = new Database(join(dir, 'locked.sqlite'));
    try {
      file.pragma('journal_mode = WAL');
      file.pragma('busy_timeout = 0');
      file.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
      holder.exec('BEGIN IMMEDIATE'); // another writer holds the lock: our BEGIN IMMEDIATE fails at once
      const locked = new GroupCommit(file);
      const write = (k: string) => () => file.prepare('INSERT INTO t (k) VALUES (?)').run(k).changes;
      const settled = await Promise.allSettled([locked.enqueue(write('a')), locked.enqueue(write('b'))]);
      holder.exec('ROLLBACK');
      expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
      expect((settled[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_BUSY' });
      expect(file.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
      expect(locked.stats.commits).toBe(0);
    } finally {
      holder.close();
      file.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('settles a batch only after its off-thread WAL sync, and makes readers wait for that sync', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gigafactory-group-commit-'));
    const file = new Database(join(dir, 'durable.sqlite'));
    try {
      file.pragma('journal_mode = WAL');
      file.pragma('synchronous = FULL');
      file.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
      const durable = new GroupCommit(file);
      expect(file.pragma('synchronous', { simple: true })).toBe(1); // NORMAL: the commit no longer syncs on this thread
      let acknowledged = false;
      const writing = durable.enqueue(() => file.prepare('INSERT INTO t (k) VALUES (?)').run('a')).then(() => (acknowledged = true));
      await new Promise((resolve) => setImmediate(resolve)); // runs right after the batch committed, before its sync can finish
      expect(durable.stats.commits).toBe(1);
      const syncing = durable.durable();
      expect(syncing).not.toBeNull();
      expect(acknowledged).toBe(false);
      await syncing;
      expect(acknowledged).toBe(true);
      expect(durable.durable()).toBeNull();
      await writing;
      await durable.close();
    } finally {
      file.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves a connection that does not sync its commits as it is, settling at commit', async () => {
    // :memory: has no WAL to sync; so does a file opened with synchronous = NORMAL or OFF.
    await commits.enqueue(insert('a'));
    expect(commits.durable()).toBeNull();
    expect(commits.stats.syncMs).toBe(0);
  });

  it('starts a new batch for writes issued after the previous batch settled', async () => {
    await commits.enqueue(insert('a'));
    await commits.enqueue(insert('b'));
    expect(commits.stats.commits).toBe(2);
    expect(keys()).toEqual(['a', 'b']);
  });
});

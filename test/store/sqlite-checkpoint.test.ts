/**
 * WAL checkpoints on a worker thread (src/store/sqlite/background-checkpoint.ts): the store's own
 * connection never checkpoints inside a commit, a worker folds the WAL into the database file while
 * the store keeps writing, nothing written is lost across a close and a reopen, and an in-memory
 * database is left alone.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackgroundCheckpoint, CHECKPOINT_INTERVAL_MS } from '../../src/store/sqlite/background-checkpoint.js';
import { openSqliteStore, type SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { chunk, insertSubmitted, T0 } from './builders.js';

describe('background checkpoints', () => {
  let dir: string;
  let path: string;
  let store: SqliteJobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gigafactory-checkpoint-'));
    path = join(dir, 'jobs.sqlite');
    store = openSqliteStore(path);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('folds the WAL into the database file on a worker while the store writes, and loses nothing', async () => {
    const job = await insertSubmitted(store, 'j1', T0);
    // Enough separate commits to start the worker and to leave pages to fold.
    for (let sequence = 0; sequence < 400; sequence++) await store.appendLog(chunk(job.id, 0, sequence, 'x'.repeat(2_000)));
    const deadline = Date.now() + 20 * CHECKPOINT_INTERVAL_MS;
    while (store.checkpointStats!.framesCopied === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_INTERVAL_MS / 2));
    expect(store.checkpointStats).toMatchObject({ failure: null });
    expect(store.checkpointStats!.runs).toBeGreaterThan(0);
    expect(store.checkpointStats!.framesCopied).toBeGreaterThan(0);

    await store.close();
    store = openSqliteStore(path);
    const logs = await store.readLogs(job.id, null, 1_000);
    expect(logs).toHaveLength(400);
    expect(logs.at(-1)!.sequence).toBe(399);
  });

  it('turns off checkpoints inside commits on the store connection', () => {
    const db = new Database(join(dir, 'other.sqlite'));
    db.pragma('journal_mode = WAL');
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
    expect(BackgroundCheckpoint.for(db)).not.toBeNull();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    db.close();
  });

  it('gives checkpoints back to SQLite when the worker cannot do them', async () => {
    const gone = join(dir, 'gone');
    await mkdir(gone);
    const db = new Database(join(gone, 'x.sqlite'));
    db.pragma('journal_mode = WAL');
    const checkpoints = BackgroundCheckpoint.for(db)!;
    await rm(gone, { recursive: true }); // the worker's own connection cannot open the file now
    while (checkpoints.stats.failure === null) {
      checkpoints.noteWrite();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(checkpoints.stats.failure).toMatch(/cannot open database/i);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
    await checkpoints.stop();
    db.close();
  });

  it('leaves an in-memory database to SQLite', () => {
    const db = new Database(':memory:');
    expect(BackgroundCheckpoint.for(db)).toBeNull();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
    db.close();
  });
});

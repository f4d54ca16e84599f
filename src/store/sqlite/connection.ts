/**
 * Opens a SQLite connection configured for rule 1 (an acknowledged job is never lost):
 * - WAL, so readers never block the writer and a commit is one append to the log;
 * - synchronous = FULL, so a commit is fsynced before it returns. In WAL mode NORMAL would only
 *   fsync at checkpoints, and a power cut could then lose transactions we already acknowledged;
 * - busy_timeout, so a second process (a CLI, a backup) briefly holding the lock makes us wait
 *   instead of failing with SQLITE_BUSY.
 * The file holds credentials' hashes and every job's env: its owner only (SQLite gives the WAL and
 * shared-memory files the database file's mode).
 */
import Database from 'better-sqlite3';
import { makePrivateFiles } from '../../private-files.js';
import { migrate } from './migrate.js';

export const BUSY_TIMEOUT_MS = 5_000;

export function openConnection(path: string): Database.Database {
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrate(db);
    if (path !== ':memory:' && path !== '') makePrivateFiles(path, `${path}-wal`, `${path}-shm`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

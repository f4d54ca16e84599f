import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConnection } from '../../src/store/sqlite/connection.js';
import { currentVersion, migrate, SchemaTooNewError } from '../../src/store/sqlite/migrate.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore, SqliteJobStore } from '../../src/store/sqlite/sqlite-store.js';
import { openStore } from '../../src/store/open-store.js';
import { T0, chunk, insertRunning } from './builders.js';
import { SqliteSecurityStore } from '../../src/store/sqlite/sqlite-security-store.js';
import { SqliteSettingsStore } from '../../src/store/sqlite/sqlite-settings-store.js';
import { describeJobStoreConformance } from './conformance.js';
import { describeSecurityStoreConformance } from './security-conformance.js';
import { describeSettingsStoreConformance } from './settings-conformance.js';
import { describeArtifactStoreConformance } from './artifact-conformance.js';
import { SqliteArtifactStore } from '../../src/store/sqlite/sqlite-artifact-store.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gigafactory-store-'));
}

describeJobStoreConformance('sqlite', async () => {
  const dir = await tempDir();
  const store = openSqliteStore(join(dir, 'jobs.sqlite'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** A store of its own over a fresh, migrated file: the job store migrates it first, as the coordinator does. */
async function besideJobs<S extends { close(): unknown }>(open: (path: string) => S): Promise<{ store: S; cleanup(): Promise<void> }> {
  const dir = await tempDir();
  const path = join(dir, 'gigafactory.sqlite');
  const jobs = openSqliteStore(path);
  const store = open(path);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await jobs.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeSecurityStoreConformance('sqlite', () => besideJobs((path) => new SqliteSecurityStore(path)));
describeSettingsStoreConformance('sqlite', () => besideJobs((path) => new SqliteSettingsStore(path)));
describeArtifactStoreConformance('sqlite', () => besideJobs((path) => new SqliteArtifactStore(path)));

describe('sqlite store', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await tempDir();
    path = join(dir, 'jobs.sqlite');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('numbers migrations 1..n and records each applied one', async () => {
    // Strictly increasing (numbers are handed out per change, so one may land before another's).
    expect(MIGRATIONS.every((m, i) => i === 0 || m.version > MIGRATIONS[i - 1]!.version)).toBe(true);
    await openSqliteStore(path).close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT version, description FROM schema_migrations ORDER BY version').all();
    db.close();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, description: m.description })));
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.at(-1)!.version);
  });

  it('migrates idempotently', () => {
    const db = openConnection(path);
    expect(currentVersion(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(migrate(db)).toBe(LATEST_SCHEMA_VERSION);
    expect(db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: MIGRATIONS.length });
    db.close();
  });

  it('runs in WAL mode with synchronous = FULL, so an acknowledged commit is on disk', () => {
    const db = openConnection(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    db.close();
  });

  it('keeps jobs, events and logs across close and reopen', async () => {
    const first = openSqliteStore(path);
    const job = await insertRunning(first, 'j1', 'f1', T0);
    await first.appendLog(chunk('j1', 1, 0, 'hello'));
    await first.close();
    const second = openStore({ kind: 'sqlite', path });
    expect(second).toBeInstanceOf(SqliteJobStore);
    expect(await second.getJob('j1')).toStrictEqual(job);
    expect((await second.listEvents('j1')).map((e) => e.kind)).toEqual(['submitted', 'offered', 'started']);
    expect((await second.readLogs('j1', null, 10)).map((c) => c.sequence)).toEqual([0]);
    await second.close();
  });

  it('refuses to open a database written by a newer version, saying so', async () => {
    await openSqliteStore(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(
      LATEST_SCHEMA_VERSION + 1,
      'from the future',
      Date.now(),
    );
    db.close();
    const open = () => openSqliteStore(path);
    expect(open).toThrow(SchemaTooNewError);
    expect(open).toThrow(
      `schema version ${LATEST_SCHEMA_VERSION + 1}, but this build of gigafactory only knows versions up to ${LATEST_SCHEMA_VERSION}`,
    );
  });

  // One insert at a time, then 16 concurrent submit loops whose inserts share each group commit.
  it.each([
    { when: 'the writing process is killed with SIGKILL', atLeast: 200, concurrency: 1 },
    { when: 'killed with SIGKILL while many inserts share each commit', atLeast: 400, concurrency: 16 },
  ])(
    'loses no acknowledged job when $when',
    async ({ atLeast, concurrency }) => {
      const acked = await submitUntilKilled(path, atLeast, concurrency);
      expect(acked.length).toBeGreaterThanOrEqual(atLeast);
      const store = openSqliteStore(path);
      try {
        const missing: string[] = [];
        for (const id of acked) if (!(await store.getJob(id))) missing.push(id);
        expect(missing).toEqual([]);
      } finally {
        await store.close();
      }
    },
    60_000,
  );
});

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SUBMITTER = fileURLToPath(new URL('./fixtures/submit-forever.ts', import.meta.url));

/**
 * Runs the submitter on `path`, SIGKILLs it as soon as `atLeast` acknowledgements have been read,
 * and returns every id it acknowledged, including lines still in the pipe when it died.
 */
async function submitUntilKilled(path: string, atLeast: number, concurrency: number): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', SUBMITTER, path, String(concurrency)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = createInterface({ input: child.stdout });
  const drained = once(lines, 'close');
  const acked: string[] = [];
  lines.on('line', (id) => {
    acked.push(id);
    if (acked.length === atLeast) child.kill('SIGKILL');
  });
  try {
    const [code, signal] = await exited;
    await drained;
    if (signal !== 'SIGKILL') {
      throw new Error(`submitter exited on its own (code ${code}) after ${acked.length} acks:\n${stderr}`);
    }
    return acked;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * Brings a database up to the schema this build knows, and refuses one written by a newer build:
 * running old code on a newer schema could silently drop or misread columns it does not know.
 */
import type Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations.js';

/** The database was migrated by a newer build than this one. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `database ${path} has schema version ${found}, but this build of gigafactory only knows versions up to ` +
        `${known}; run a newer gigafactory against it, or point this one at a different database file`,
    );
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Applies the migrations the database has not seen, each with its schema_migrations row, in one
 * IMMEDIATE transaction so two processes opening the same new file cannot both apply step 1.
 * Running it again on an up-to-date database changes nothing.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    description TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL
  )`);
  const apply = db.transaction(() => {
    const current = currentVersion(db);
    const known = migrations.at(-1)?.version ?? 0;
    if (current > known) throw new SchemaTooNewError(db.name, current, known);
    const record = db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)');
    for (const step of migrations) {
      if (step.version <= current) continue;
      db.exec(step.sql);
      record.run(step.version, step.description, Date.now());
    }
    return currentVersion(db);
  });
  return apply.immediate();
}

/** The highest applied migration, 0 for a fresh database. */
export function currentVersion(db: Database.Database): number {
  const row = db.prepare('SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations').get() as { version: number };
  return row.version;
}

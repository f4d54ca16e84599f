/** The SQLite provider's public surface; everything else in this folder is its implementation. */
export { openSqliteStore, SqliteJobStore } from './sqlite-store.js';
export { SchemaTooNewError } from './migrate.js';
export { LATEST_SCHEMA_VERSION } from './migrations.js';

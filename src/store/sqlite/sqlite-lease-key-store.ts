/** The lease-token key ring in the coordinator's SQLite file: one row, replaced with compare-and-set. */
import type Database from 'better-sqlite3';
import { RevisionConflict } from '../job-store.js';
import type { LeaseKeyRing, LeaseKeyStore } from '../lease-key-store.js';
import { openConnection } from './connection.js';

export class SqliteLeaseKeyStore implements LeaseKeyStore {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[], { doc: string }>;
  readonly #insert: Database.Statement<[number, string]>;
  readonly #update: Database.Statement<[number, string, number]>;

  constructor(path: string) {
    this.#db = openConnection(path);
    this.#get = this.#db.prepare('SELECT doc FROM lease_keys WHERE id = 1');
    this.#insert = this.#db.prepare('INSERT INTO lease_keys (id, revision, doc) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING');
    this.#update = this.#db.prepare('UPDATE lease_keys SET revision = ?, doc = ? WHERE id = 1 AND revision = ?');
  }

  async getLeaseKeys(): Promise<LeaseKeyRing | null> {
    const row = this.#get.get();
    return row ? (JSON.parse(row.doc) as LeaseKeyRing) : null;
  }

  async putLeaseKeys(next: LeaseKeyRing): Promise<void> {
    const doc = JSON.stringify(next);
    const changed = next.revision === 1 ? this.#insert.run(next.revision, doc).changes : this.#update.run(next.revision, doc, next.revision - 1).changes;
    if (changed === 0) throw new RevisionConflict('lease-keys', next.revision - 1);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

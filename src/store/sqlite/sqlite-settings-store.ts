/** Product settings in the coordinator's SQLite file (its own connection; WAL lets both coexist). */
import type Database from 'better-sqlite3';
import { RevisionConflict } from '../job-store.js';
import type { DispatchBucket } from '../../domain/dispatch-rate.js';
import type { ProductSettings, SettingsStore } from '../settings-store.js';
import { openConnection } from './connection.js';

export class SqliteSettingsStore implements SettingsStore {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[string], { doc: string }>;
  readonly #list: Database.Statement<[], { doc: string }>;
  readonly #insert: Database.Statement<[string, number, string]>;
  readonly #update: Database.Statement<[number, string, string, number]>;
  readonly #getBucket: Database.Statement<[string], { doc: string }>;
  readonly #insertBucket: Database.Statement<[string, number, string]>;
  readonly #updateBucket: Database.Statement<[number, string, string, number]>;

  constructor(path: string) {
    this.#db = openConnection(path);
    this.#get = this.#db.prepare('SELECT doc FROM product_settings WHERE product_id = ?');
    this.#list = this.#db.prepare('SELECT doc FROM product_settings ORDER BY product_id');
    this.#insert = this.#db.prepare('INSERT INTO product_settings (product_id, revision, doc) VALUES (?, ?, ?) ON CONFLICT (product_id) DO NOTHING');
    this.#update = this.#db.prepare('UPDATE product_settings SET revision = ?, doc = ? WHERE product_id = ? AND revision = ?');
    this.#getBucket = this.#db.prepare('SELECT doc FROM dispatch_buckets WHERE product_id = ?');
    this.#insertBucket = this.#db.prepare('INSERT INTO dispatch_buckets (product_id, revision, doc) VALUES (?, ?, ?) ON CONFLICT (product_id) DO NOTHING');
    this.#updateBucket = this.#db.prepare('UPDATE dispatch_buckets SET revision = ?, doc = ? WHERE product_id = ? AND revision = ?');
  }

  async getProductSettings(productId: string): Promise<ProductSettings | null> {
    const row = this.#get.get(productId);
    return row ? (JSON.parse(row.doc) as ProductSettings) : null;
  }

  async listProductSettings(): Promise<ProductSettings[]> {
    return this.#list.all().map((row) => JSON.parse(row.doc) as ProductSettings);
  }

  async putProductSettings(next: ProductSettings): Promise<void> {
    putRevisioned(this.#insert, this.#update, next, next.productId);
  }

  async getDispatchBucket(productId: string): Promise<DispatchBucket | null> {
    const row = this.#getBucket.get(productId);
    return row ? (JSON.parse(row.doc) as DispatchBucket) : null;
  }

  async putDispatchBucket(next: DispatchBucket): Promise<void> {
    putRevisioned(this.#insertBucket, this.#updateBucket, next, `dispatch bucket ${next.productId}`);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

/** Revision 1 inserts; later revisions replace the row whose revision is one less. RevisionConflict otherwise. */
function putRevisioned(
  insert: Database.Statement<[string, number, string]>,
  update: Database.Statement<[number, string, string, number]>,
  next: { productId: string; revision: number },
  what: string,
): void {
  const doc = JSON.stringify(next);
  const changed = next.revision === 1 ? insert.run(next.productId, next.revision, doc).changes : update.run(next.revision, doc, next.productId, next.revision - 1).changes;
  if (changed === 0) throw new RevisionConflict(what, next.revision - 1);
}

/** Product settings in the coordinator's SQLite file (its own connection; WAL lets both coexist). */
import type Database from 'better-sqlite3';
import { RevisionConflict } from '../job-store.js';
import type { ProductSettings, SettingsStore } from '../settings-store.js';
import { openConnection } from './connection.js';

export class SqliteSettingsStore implements SettingsStore {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[string], { doc: string }>;
  readonly #list: Database.Statement<[], { doc: string }>;
  readonly #insert: Database.Statement<[string, number, string]>;
  readonly #update: Database.Statement<[number, string, string, number]>;

  constructor(path: string) {
    this.#db = openConnection(path);
    this.#get = this.#db.prepare('SELECT doc FROM product_settings WHERE product_id = ?');
    this.#list = this.#db.prepare('SELECT doc FROM product_settings ORDER BY product_id');
    this.#insert = this.#db.prepare('INSERT INTO product_settings (product_id, revision, doc) VALUES (?, ?, ?) ON CONFLICT (product_id) DO NOTHING');
    this.#update = this.#db.prepare('UPDATE product_settings SET revision = ?, doc = ? WHERE product_id = ? AND revision = ?');
  }

  async getProductSettings(productId: string): Promise<ProductSettings | null> {
    const row = this.#get.get(productId);
    return row ? (JSON.parse(row.doc) as ProductSettings) : null;
  }

  async listProductSettings(): Promise<ProductSettings[]> {
    return this.#list.all().map((row) => JSON.parse(row.doc) as ProductSettings);
  }

  async putProductSettings(next: ProductSettings): Promise<void> {
    const doc = JSON.stringify(next);
    const changed =
      next.revision === 1
        ? this.#insert.run(next.productId, next.revision, doc).changes
        : this.#update.run(next.revision, doc, next.productId, next.revision - 1).changes;
    if (changed === 0) throw new RevisionConflict(next.productId, next.revision - 1);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

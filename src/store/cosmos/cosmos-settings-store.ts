/**
 * Product settings in Cosmos DB, shared by every replica: one document per product in the control
 * container (control.ts), `settings:<product>`, read by id and replaced with If-Match on the etag of
 * the version whose revision was checked, the same compare-and-set as SQLite's
 * `UPDATE ... WHERE revision = ?`. Revision 1 is a create (409: someone configured it first).
 */
import { RevisionConflict } from '../job-store.js';
import type { ProductSettings, SettingsStore } from '../settings-store.js';
import type { ControlDoc } from './control.js';
import { ControlStore } from './control-store.js';
import { docId } from './documents.js';

interface SettingsDoc extends ControlDoc {
  type: 'settings';
  record: ProductSettings;
}

const settingsId = (productId: string): string => `settings:${docId(productId)}`;

export class CosmosSettingsStore extends ControlStore implements SettingsStore {
  async getProductSettings(productId: string): Promise<ProductSettings | null> {
    this.assertOpen();
    return (await this.docs.read<SettingsDoc>(settingsId(productId)))?.doc.record ?? null;
  }

  async listProductSettings(): Promise<ProductSettings[]> {
    this.assertOpen();
    const rows = await this.docs.query<{ record: ProductSettings }>({ query: "SELECT c.record FROM c WHERE c.type = 'settings'" });
    return rows.map((r) => r.record).sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
  }

  async putProductSettings(next: ProductSettings): Promise<void> {
    this.assertOpen();
    const id = settingsId(next.productId);
    const body: SettingsDoc = { id, pk: id, type: 'settings', record: next };
    if (next.revision === 1) {
      if (!(await this.docs.createIfAbsent(body))) throw new RevisionConflict(next.productId, 0);
      return;
    }
    const current = await this.docs.read<SettingsDoc>(id);
    if (!current || current.doc.record.revision !== next.revision - 1 || !(await this.docs.replaceIfMatch(current, body))) {
      throw new RevisionConflict(next.productId, next.revision - 1);
    }
  }
}

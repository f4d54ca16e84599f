/**
 * Product settings in Cosmos DB, shared by every replica: one document per product in the control
 * container (control.ts), `settings:<product>`, read by id and replaced with If-Match on the etag of
 * the version whose revision was checked, the same compare-and-set as SQLite's
 * `UPDATE ... WHERE revision = ?`. Revision 1 is a create (409: someone configured it first).
 */
import type { DispatchBucket } from '../../domain/dispatch-rate.js';
import type { ProductSettings, SettingsStore } from '../settings-store.js';
import { ControlStore, type ControlDoc } from './control.js';
import { docId } from './documents.js';

interface SettingsDoc extends ControlDoc {
  type: 'settings';
  record: ProductSettings;
}

/** A product's dispatch-rate bucket, `rate:<product>`: every replica takes its starts from it. */
interface BucketDoc extends ControlDoc {
  type: 'dispatch-bucket';
  record: DispatchBucket;
}

const bucketId = (productId: string): string => `rate:${docId(productId)}`;

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
    await this.docs.putRevisioned<SettingsDoc>({ id, pk: id, type: 'settings', record: next }, next.productId);
  }

  async getDispatchBucket(productId: string): Promise<DispatchBucket | null> {
    this.assertOpen();
    return (await this.docs.read<BucketDoc>(bucketId(productId)))?.doc.record ?? null;
  }

  async putDispatchBucket(next: DispatchBucket): Promise<void> {
    this.assertOpen();
    const id = bucketId(next.productId);
    await this.docs.putRevisioned<BucketDoc>({ id, pk: id, type: 'dispatch-bucket', record: next }, `dispatch bucket ${next.productId}`);
  }
}

/** Product settings in memory, with the same compare-and-set as the SQLite provider. */
import { RevisionConflict } from '../job-store.js';
import type { DispatchBucket } from '../../domain/dispatch-rate.js';
import type { ProductSettings, SettingsStore } from '../settings-store.js';

export class MemorySettingsStore implements SettingsStore {
  readonly #byProduct = new Map<string, string>();
  readonly #buckets = new Map<string, DispatchBucket>();

  async getProductSettings(productId: string): Promise<ProductSettings | null> {
    const doc = this.#byProduct.get(productId);
    return doc ? (JSON.parse(doc) as ProductSettings) : null;
  }

  async listProductSettings(): Promise<ProductSettings[]> {
    return [...this.#byProduct.keys()].sort().map((id) => JSON.parse(this.#byProduct.get(id)!) as ProductSettings);
  }

  async putProductSettings(next: ProductSettings): Promise<void> {
    // Checked and written in one synchronous step, so two racing writers cannot both pass the check.
    const stored = this.#byProduct.get(next.productId);
    const current = stored ? (JSON.parse(stored) as ProductSettings) : null;
    if ((current?.revision ?? 0) !== next.revision - 1) throw new RevisionConflict(next.productId, next.revision - 1);
    this.#byProduct.set(next.productId, JSON.stringify(next));
  }

  async getDispatchBucket(productId: string): Promise<DispatchBucket | null> {
    const bucket = this.#buckets.get(productId);
    return bucket ? { ...bucket } : null;
  }

  async putDispatchBucket(next: DispatchBucket): Promise<void> {
    if ((this.#buckets.get(next.productId)?.revision ?? 0) !== next.revision - 1) throw new RevisionConflict(`dispatch bucket ${next.productId}`, next.revision - 1);
    this.#buckets.set(next.productId, { ...next });
  }
}

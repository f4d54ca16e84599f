/** The lease-token key ring in memory, with the same compare-and-set as the SQLite provider. */
import { RevisionConflict } from '../job-store.js';
import type { LeaseKeyRing, LeaseKeyStore } from '../lease-key-store.js';

export class MemoryLeaseKeyStore implements LeaseKeyStore {
  #doc: string | null = null;

  async getLeaseKeys(): Promise<LeaseKeyRing | null> {
    return this.#doc ? (JSON.parse(this.#doc) as LeaseKeyRing) : null;
  }

  async putLeaseKeys(next: LeaseKeyRing): Promise<void> {
    // Checked and written in one synchronous step, so two racing writers cannot both pass the check.
    const current = this.#doc ? (JSON.parse(this.#doc) as LeaseKeyRing) : null;
    if ((current?.revision ?? 0) !== next.revision - 1) throw new RevisionConflict('lease-keys', next.revision - 1);
    this.#doc = JSON.stringify(next);
  }
}

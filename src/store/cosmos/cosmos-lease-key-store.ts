/**
 * The lease-token key ring in Cosmos DB, shared by every replica: one document in the control
 * container (control.ts), `lease-keys`, replaced with compare-and-set on its revision
 * (ControlDocs.putRevisioned); revision 1 is a create (409: another replica made the ring first).
 */
import type { LeaseKeyRing, LeaseKeyStore } from '../lease-key-store.js';
import { ControlStore, type ControlDoc } from './control.js';

interface LeaseKeysDoc extends ControlDoc {
  type: 'lease-keys';
  record: LeaseKeyRing;
}

const LEASE_KEYS_ID = 'lease-keys';

export class CosmosLeaseKeyStore extends ControlStore implements LeaseKeyStore {
  async getLeaseKeys(): Promise<LeaseKeyRing | null> {
    this.assertOpen();
    return (await this.docs.read<LeaseKeysDoc>(LEASE_KEYS_ID))?.doc.record ?? null;
  }

  async putLeaseKeys(next: LeaseKeyRing): Promise<void> {
    this.assertOpen();
    await this.docs.putRevisioned<LeaseKeysDoc>({ id: LEASE_KEYS_ID, pk: LEASE_KEYS_ID, type: 'lease-keys', record: next }, LEASE_KEYS_ID);
  }
}

/**
 * The coordinator's lease-token signing keys (coordinator/lease-keys.ts): one small record, shared
 * by every replica so each signs with the same key and publishes the same set. Unlike the other
 * credentials this record holds private keys, not hashes: every replica must be able to sign. It
 * lives beside them (the coordinator's SQLite file, Cosmos's control container) with their access
 * control, and rotation bounds what a leaked key can sign for.
 */
export interface LeaseKeyRecord {
  keyId: string;
  /** Ed25519, PKCS#8 DER, base64. */
  privateKey: string;
  /** Raw 32 bytes, base64url (as the JWK "x" member). */
  publicKey: string;
  createdAt: number;
}

export interface LeaseKeyRing {
  /** Newest first: [0] signs; the rest are published for verification only. */
  keys: LeaseKeyRecord[];
  /** +1 on every change; compare-and-set token. */
  revision: number;
}

export interface LeaseKeyStore {
  /** The ring, or null before any replica made one. */
  getLeaseKeys(): Promise<LeaseKeyRing | null>;
  /** Insert (revision 1) or compare-and-set on `next.revision - 1`; throws RevisionConflict otherwise. */
  putLeaseKeys(next: LeaseKeyRing): Promise<void>;
}

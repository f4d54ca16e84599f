/**
 * The keys lease tokens are signed with: one Ed25519 key signs, the one before it stays published
 * so tokens it signed verify until they expire. The ring lives in the store (LeaseKeyStore), so
 * every replica signs with the same key and publishes the same set; whichever replica first finds
 * the signing key older than `rotateEveryMs` rotates it with compare-and-set, and the others pick
 * the new ring up on their next refresh (or at once, when asked to verify a token naming a key they
 * do not know yet).
 *
 * A token lives at most `maxTokenTtlMs`, never longer than a rotation period, so a key dropped at
 * its second rotation signed nothing still valid.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import type { JobRecord } from '../domain/job.js';
import { joinToken, parseLeaseToken, signedPart, type LeaseClaims } from '../domain/lease-token.js';
import { RevisionConflict } from '../store/job-store.js';
import type { LeaseKeyRecord, LeaseKeyRing, LeaseKeyStore } from '../store/lease-key-store.js';
import type { Clock } from './clock.js';

export interface LeaseKeySettings {
  /** The signing key is replaced when it is this old. */
  rotateEveryMs: number;
  /** A token expires this long after its offer at the latest (its job's timeout may make it sooner). */
  maxTokenTtlMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_LEASE_KEY_SETTINGS: LeaseKeySettings = { rotateEveryMs: DAY_MS, maxTokenTtlMs: DAY_MS };
/** A token of a job with a timeout outlives it by this much: the grace to stop, the result's way home. */
const TOKEN_SLACK_MS = 10 * 60 * 1000;
/** How many keys a ring keeps: the signing one and the one it replaced. */
const RING_SIZE = 2;

/** A published key with its verifier. */
export interface PublicLeaseKey {
  keyId: string;
  publicKey: string;
  createdAt: number;
}

/** A verified token, or why it did not verify. */
export type Verified = { t: 'verified'; claims: LeaseClaims } | { t: 'unverified'; reason: string };

interface LoadedKey {
  record: LeaseKeyRecord;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export class LeaseKeys {
  #ring: LeaseKeyRing;
  #keys: LoadedKey[];

  constructor(
    private readonly store: LeaseKeyStore,
    private readonly clock: Clock,
    private readonly settings: LeaseKeySettings = DEFAULT_LEASE_KEY_SETTINGS,
  ) {
    if (settings.maxTokenTtlMs > settings.rotateEveryMs) throw new Error('lease tokens must not outlive a key rotation period');
    // Usable before load(): a fresh ring of one key, which load() stores or replaces with the stored one.
    this.#ring = { keys: [newKey(clock.now())], revision: 0 };
    this.#keys = this.#ring.keys.map(loadKey);
  }

  /** Reads the shared ring (making or rotating it when due). Safe to call again: the periodic refresh. */
  async load(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const stored = await this.store.getLeaseKeys();
      const now = this.clock.now();
      let next: LeaseKeyRing | null = null;
      if (!stored) next = { keys: this.#ring.revision === 0 ? this.#ring.keys : [newKey(now)], revision: 1 };
      else if (now - stored.keys[0]!.createdAt >= this.settings.rotateEveryMs) next = { keys: [newKey(now), ...stored.keys].slice(0, RING_SIZE), revision: stored.revision + 1 };
      if (!next) return this.#use(stored!);
      try {
        await this.store.putLeaseKeys(next);
        return this.#use(next);
      } catch (err) {
        // Another replica made or rotated the ring meanwhile: read theirs.
        if (!(err instanceof RevisionConflict) || attempt >= 3) throw err;
      }
    }
  }

  /** The token for the lease `job` now holds (it must hold one). */
  issue(job: JobRecord): string {
    const lease = job.lease;
    if (!lease) throw new Error(`job ${job.id} holds no lease to issue a token for`);
    const signer = this.#keys[0]!;
    const ttl = job.timeoutMs > 0 ? Math.min(job.timeoutMs + TOKEN_SLACK_MS, this.settings.maxTokenTtlMs) : this.settings.maxTokenTtlMs;
    // Whole seconds on the wire, rounded up so a token never expires before its lease could.
    const expiresAt = Math.ceil((this.clock.now() + ttl) / 1000) * 1000;
    const signed = signedPart({ jobId: job.id, epoch: lease.epoch, factoryId: lease.factoryId, expiresAt, keyId: signer.record.keyId });
    return joinToken(signed, sign(null, Buffer.from(signed), signer.privateKey));
  }

  /**
   * Checks the token's signature against the published keys; INVALID_ARGUMENT (thrown) when it is
   * not a token at all. Expiry is the caller's rule (domain/lease-token.ts).
   */
  async verify(token: string): Promise<Verified> {
    const parsed = parseLeaseToken(token);
    let key = this.#find(parsed.claims.keyId);
    if (!key) {
      await this.load(); // another replica may have rotated since our last refresh
      key = this.#find(parsed.claims.keyId);
    }
    if (!key) return { t: 'unverified', reason: `signed with key ${JSON.stringify(parsed.claims.keyId.slice(0, 40))}, which is not (or no longer) published` };
    if (!verify(null, Buffer.from(parsed.signed), key.publicKey, parsed.signature)) return { t: 'unverified', reason: 'the signature does not verify' };
    return { t: 'verified', claims: parsed.claims };
  }

  /** The published keys, newest first. */
  published(): PublicLeaseKey[] {
    return this.#keys.map(({ record }) => ({ keyId: record.keyId, publicKey: record.publicKey, createdAt: record.createdAt }));
  }

  #find(keyId: string): LoadedKey | undefined {
    return this.#keys.find((k) => k.record.keyId === keyId);
  }

  #use(ring: LeaseKeyRing): void {
    if (ring.revision === this.#ring.revision) return;
    this.#ring = ring;
    this.#keys = ring.keys.map(loadKey);
  }
}

function newKey(now: number): LeaseKeyRecord {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    keyId: `lk_${randomBytes(6).toString('base64url')}`,
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicKey: publicKey.export({ format: 'jwk' }).x!,
    createdAt: now,
  };
}

function loadKey(record: LeaseKeyRecord): LoadedKey {
  const privateKey = createPrivateKey({ key: Buffer.from(record.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
  return { record, privateKey, publicKey: createPublicKey(privateKey) };
}

/**
 * Credentials in Cosmos DB, shared by every replica (the control container, see control.ts). The
 * same semantics as the SQLite provider without multi-document transactions: each promise rests on
 * one conditional write.
 *
 * Documents (pk = id), each holding only hashes of secrets:
 * - `apikey:<hash>`          the ApiKeyRecord: authenticating a key is one point read;
 * - `apikeyname:<name>`      the name's claim, holding the key's hash: created first (409 = the name
 *                            is taken, for ever); revoking by name reads it, then the key;
 * - `enrollment:<hash>`      an EnrollmentTokenRecord;
 * - `factory:<id>`           a FactoryCredentialRecord, replaced with If-Match (its revision is
 *                            checked against the document whose etag the write names);
 * - `factorytoken:<hash>`    which factory a token hash belongs to, written before the credential
 *                            that names it; findFactoryCredential checks the credential still names
 *                            the hash (current or previous), so an outdated pointer finds nothing.
 *
 * Redeeming an enrollment token: the token is taken by a replace with If-Match on the etag of the
 * unused token (of two racing redemptions exactly one wins), then the credential is written (create,
 * or If-Match on the revoked credential it replaces). If that write loses because the factory id was
 * enrolled meanwhile, the token is given back and the redemption is decided again. A process that
 * dies between the two writes leaves the token used and no credential: the factory never saw a
 * token, and an operator issues a new enrollment token (an API key's name claimed by a create that
 * died before the key document is likewise gone for good; its secret was never shown).
 */
import { RevisionConflict } from '../job-store.js';
import type {
  ApiKeyRecord,
  EnrollmentTokenRecord,
  FactoryCredentialRecord,
  RedeemOutcome,
  SecurityStore,
} from '../security-store.js';
import { ControlStore, type ControlDoc, type Read } from './control.js';
import { docId } from './documents.js';

interface ApiKeyDoc extends ControlDoc {
  type: 'apikey';
  record: ApiKeyRecord;
}
interface ApiKeyNameDoc extends ControlDoc {
  type: 'apikeyname';
  keyHash: string;
}
interface EnrollmentDoc extends ControlDoc {
  type: 'enrollment';
  record: EnrollmentTokenRecord;
}
interface FactoryDoc extends ControlDoc {
  type: 'factory';
  record: FactoryCredentialRecord;
}
interface FactoryTokenDoc extends ControlDoc {
  type: 'factorytoken';
  factoryId: string;
}

/** Hashes are hex SHA-256 and safe as ids; names and factory ids go through docId like job ids. */
const ids = {
  apiKey: (keyHash: string) => `apikey:${keyHash}`,
  apiKeyName: (name: string) => `apikeyname:${docId(name)}`,
  enrollment: (tokenHash: string) => `enrollment:${tokenHash}`,
  factory: (factoryId: string) => `factory:${docId(factoryId)}`,
  factoryToken: (tokenHash: string) => `factorytoken:${tokenHash}`,
};

function doc<D extends ControlDoc>(id: string, fields: Omit<D, 'id' | 'pk'>): D {
  return { id, pk: id, ...fields } as D;
}

/** Attempts at a read-decide-write that keeps losing to other writers before giving up. */
const CAS_ATTEMPTS = 8;

export class CosmosSecurityStore extends ControlStore implements SecurityStore {
  async insertEnrollmentToken(token: EnrollmentTokenRecord): Promise<void> {
    this.assertOpen();
    const created = await this.docs.createIfAbsent(doc<EnrollmentDoc>(ids.enrollment(token.tokenHash), { type: 'enrollment', record: token }));
    if (!created) throw new Error(`an enrollment token with this hash exists (${token.id})`);
  }

  async findEnrollmentToken(tokenHash: string): Promise<EnrollmentTokenRecord | null> {
    this.assertOpen();
    return (await this.docs.read<EnrollmentDoc>(ids.enrollment(tokenHash)))?.doc.record ?? null;
  }

  async redeemEnrollmentToken(tokenHash: string, now: number, credential: FactoryCredentialRecord): Promise<RedeemOutcome> {
    this.assertOpen();
    for (let attempt = 1; attempt <= CAS_ATTEMPTS; attempt++) {
      const token = await this.docs.read<EnrollmentDoc>(ids.enrollment(tokenHash));
      if (!token) return { t: 'not_found' };
      const record = token.doc.record;
      if (record.usedAt !== null) return { t: 'used', token: record };
      if (record.expiresAt <= now) return { t: 'expired', token: record };
      const existing = await this.docs.read<FactoryDoc>(ids.factory(credential.factoryId));
      if (existing && existing.doc.record.revokedAt === null) return { t: 'factory_enrolled' };

      // The commit point: of two redemptions of this token, only one replaces the unused version.
      const used: EnrollmentTokenRecord = { ...record, usedAt: now, usedBy: credential.factoryId };
      const taken = await this.docs.replaceIfMatch(token, { ...token.doc, record: used });
      if (!taken) continue; // changed since read (redeemed by another, most likely): decide again

      const stored: FactoryCredentialRecord = { ...credential, revision: (existing?.doc.record.revision ?? 0) + 1 };
      await this.#pointTokenAt(stored.tokenHash, stored.factoryId);
      const next = doc<FactoryDoc>(ids.factory(stored.factoryId), { type: 'factory', record: stored });
      const wrote = existing ? (await this.docs.replaceIfMatch(existing, next)) !== null : await this.docs.createIfAbsent(next);
      if (wrote) return { t: 'redeemed', token: used };
      // The factory id changed hands between our read and write: give the token back, decide again.
      await this.docs.replaceIfMatch(taken, { ...taken.doc, record });
    }
    throw new RevisionConflict(credential.factoryId, 0);
  }

  async getFactoryCredential(factoryId: string): Promise<FactoryCredentialRecord | null> {
    this.assertOpen();
    return (await this.docs.read<FactoryDoc>(ids.factory(factoryId)))?.doc.record ?? null;
  }

  async findFactoryCredential(tokenHash: string): Promise<FactoryCredentialRecord | null> {
    this.assertOpen();
    const pointer = await this.docs.read<FactoryTokenDoc>(ids.factoryToken(tokenHash));
    if (!pointer) return null;
    const credential = await this.getFactoryCredential(pointer.doc.factoryId);
    if (!credential || (credential.tokenHash !== tokenHash && credential.previousTokenHash !== tokenHash)) return null;
    return credential;
  }

  async putFactoryCredential(next: FactoryCredentialRecord): Promise<void> {
    this.assertOpen();
    await this.#pointTokenAt(next.tokenHash, next.factoryId);
    const body = doc<FactoryDoc>(ids.factory(next.factoryId), { type: 'factory', record: next });
    if (next.revision === 1) {
      if (!(await this.docs.createIfAbsent(body))) throw new RevisionConflict(next.factoryId, 0);
      return;
    }
    const current = await this.docs.read<FactoryDoc>(body.id);
    if (!current || current.doc.record.revision !== next.revision - 1 || !(await this.docs.replaceIfMatch(current, body))) {
      throw new RevisionConflict(next.factoryId, next.revision - 1);
    }
  }

  async revokedAmong(factoryIds: readonly string[]): Promise<string[]> {
    this.assertOpen();
    const revoked: string[] = [];
    for (let i = 0; i < factoryIds.length; i += 200) {
      const rows = await this.docs.query<{ factoryId: string }>({
        query: "SELECT c.record.factoryId FROM c WHERE c.type = 'factory' AND ARRAY_CONTAINS(@ids, c.id) AND NOT IS_NULL(c.record.revokedAt)",
        parameters: [{ name: '@ids', value: factoryIds.slice(i, i + 200).map(ids.factory) }],
      });
      revoked.push(...rows.map((r) => r.factoryId));
    }
    return revoked;
  }

  async insertApiKey(key: ApiKeyRecord): Promise<'inserted' | 'name_taken'> {
    this.assertOpen();
    if (!(await this.docs.createIfAbsent(doc<ApiKeyNameDoc>(ids.apiKeyName(key.name), { type: 'apikeyname', keyHash: key.keyHash })))) return 'name_taken';
    if (!(await this.docs.createIfAbsent(doc<ApiKeyDoc>(ids.apiKey(key.keyHash), { type: 'apikey', record: key })))) {
      throw new Error(`an API key with this hash exists (${key.id})`);
    }
    return 'inserted';
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRecord | null> {
    this.assertOpen();
    return (await this.docs.read<ApiKeyDoc>(ids.apiKey(keyHash)))?.doc.record ?? null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    this.assertOpen();
    const rows = await this.docs.query<{ record: ApiKeyRecord }>({ query: "SELECT c.record FROM c WHERE c.type = 'apikey'" });
    return rows.map((r) => r.record).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async revokeApiKey(name: string, at: number, by: string): Promise<ApiKeyRecord | null> {
    this.assertOpen();
    const claim = await this.docs.read<ApiKeyNameDoc>(ids.apiKeyName(name));
    if (!claim) return null;
    for (let attempt = 1; attempt <= CAS_ATTEMPTS; attempt++) {
      const key: Read<ApiKeyDoc> | null = await this.docs.read<ApiKeyDoc>(ids.apiKey(claim.doc.keyHash));
      if (!key) return null; // a create that died after claiming the name: no key to revoke
      if (key.doc.record.revokedAt !== null) return key.doc.record;
      const revoked: ApiKeyRecord = { ...key.doc.record, revokedAt: at, revokedBy: by };
      if (await this.docs.replaceIfMatch(key, { ...key.doc, record: revoked })) return revoked;
    }
    throw new RevisionConflict(name, 0);
  }

  /** Token hashes are 256 random bits: a pointer, once written, never needs to change. */
  async #pointTokenAt(tokenHash: string, factoryId: string): Promise<void> {
    await this.docs.createIfAbsent(doc<FactoryTokenDoc>(ids.factoryToken(tokenHash), { type: 'factorytoken', factoryId }));
  }
}

/** Credentials in memory, for tests; the same semantics as the SQLite provider (records are copied). */
import { RevisionConflict } from '../job-store.js';
import type {
  ApiKeyRecord,
  EnrollmentTokenRecord,
  FactoryCredentialRecord,
  RedeemOutcome,
  SecurityStore,
} from '../security-store.js';

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class MemorySecurityStore implements SecurityStore {
  readonly #enrollment = new Map<string, EnrollmentTokenRecord>();
  readonly #factories = new Map<string, FactoryCredentialRecord>();
  readonly #keys = new Map<string, ApiKeyRecord>();

  async insertEnrollmentToken(token: EnrollmentTokenRecord): Promise<void> {
    this.#enrollment.set(token.tokenHash, copy(token));
  }

  async findEnrollmentToken(tokenHash: string): Promise<EnrollmentTokenRecord | null> {
    const token = this.#enrollment.get(tokenHash);
    return token ? copy(token) : null;
  }

  async redeemEnrollmentToken(tokenHash: string, now: number, credential: FactoryCredentialRecord): Promise<RedeemOutcome> {
    const token = this.#enrollment.get(tokenHash);
    if (!token) return { t: 'not_found' };
    if (token.usedAt !== null) return { t: 'used', token: copy(token) };
    if (token.expiresAt <= now) return { t: 'expired', token: copy(token) };
    const existing = this.#factories.get(credential.factoryId);
    if (existing && existing.revokedAt === null) return { t: 'factory_enrolled' };
    token.usedAt = now;
    token.usedBy = credential.factoryId;
    this.#factories.set(credential.factoryId, copy({ ...credential, revision: (existing?.revision ?? 0) + 1 }));
    return { t: 'redeemed', token: copy(token) };
  }

  async getFactoryCredential(factoryId: string): Promise<FactoryCredentialRecord | null> {
    const found = this.#factories.get(factoryId);
    return found ? copy(found) : null;
  }

  async findFactoryCredential(tokenHash: string): Promise<FactoryCredentialRecord | null> {
    for (const f of this.#factories.values()) {
      if (f.tokenHash === tokenHash || f.previousTokenHash === tokenHash) return copy(f);
    }
    return null;
  }

  async putFactoryCredential(next: FactoryCredentialRecord): Promise<void> {
    const current = this.#factories.get(next.factoryId);
    if ((current?.revision ?? 0) !== next.revision - 1) throw new RevisionConflict(next.factoryId, next.revision - 1);
    this.#factories.set(next.factoryId, copy(next));
  }

  async revokedAmong(factoryIds: readonly string[]): Promise<string[]> {
    return factoryIds.filter((id) => (this.#factories.get(id)?.revokedAt ?? null) !== null);
  }

  async insertApiKey(key: ApiKeyRecord): Promise<'inserted' | 'name_taken'> {
    if ([...this.#keys.values()].some((k) => k.name === key.name)) return 'name_taken';
    this.#keys.set(key.keyHash, copy(key));
    return 'inserted';
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRecord | null> {
    const key = this.#keys.get(keyHash);
    return key ? copy(key) : null;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return [...this.#keys.values()].sort((a, b) => a.name.localeCompare(b.name)).map(copy);
  }

  async revokeApiKey(name: string, at: number, by: string): Promise<ApiKeyRecord | null> {
    const key = [...this.#keys.values()].find((k) => k.name === name);
    if (!key) return null;
    if (key.revokedAt === null) {
      key.revokedAt = at;
      key.revokedBy = by;
    }
    return copy(key);
  }

  async close(): Promise<void> {}
}

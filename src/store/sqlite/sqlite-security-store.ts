/**
 * Credentials in the coordinator's SQLite file, on their own connection (WAL lets it coexist with the
 * JobStore's), with the same durability as jobs: synchronous = FULL, so a key or an enrollment is on
 * disk before the RPC that made it returns. Writes that read first run in IMMEDIATE transactions.
 */
import type Database from 'better-sqlite3';
import { RevisionConflict } from '../job-store.js';
import type {
  ApiKeyRecord,
  EnrollmentTokenRecord,
  FactoryCredentialRecord,
  RedeemOutcome,
  SecurityStore,
} from '../security-store.js';
import { StoreClosed } from '../store-errors.js';
import { openConnection } from './connection.js';

type Doc = { doc: string };

export class SqliteSecurityStore implements SecurityStore {
  readonly #db: Database.Database;
  readonly #sql;

  /** Opens (migrating when needed) the SQLite file at `path`; usually the JobStore's file. */
  constructor(path: string) {
    this.#db = openConnection(path);
    const db = this.#db;
    this.#sql = {
      insertEnrollment: db.prepare<{ tokenHash: string; id: string; expiresAt: number; usedAt: number | null; doc: string }>(
        'INSERT INTO enrollment_tokens (token_hash, id, expires_at, used_at, doc) VALUES (@tokenHash, @id, @expiresAt, @usedAt, @doc)',
      ),
      enrollmentByHash: db.prepare<[string], Doc>('SELECT doc FROM enrollment_tokens WHERE token_hash = ?'),
      markEnrollmentUsed: db.prepare<[number, string, string]>('UPDATE enrollment_tokens SET used_at = ?, doc = ? WHERE token_hash = ? AND used_at IS NULL'),
      factoryById: db.prepare<[string], Doc>('SELECT doc FROM factory_credentials WHERE factory_id = ?'),
      factoryByHash: db.prepare<[string, string], Doc>(
        'SELECT doc FROM factory_credentials WHERE token_hash = ? UNION ALL SELECT doc FROM factory_credentials WHERE previous_token_hash = ? LIMIT 1',
      ),
      insertFactory: db.prepare<{ factoryId: string; tokenHash: string; previousTokenHash: string | null; revokedAt: number | null; revision: number; doc: string }>(
        `INSERT INTO factory_credentials (factory_id, token_hash, previous_token_hash, revoked_at, revision, doc)
         VALUES (@factoryId, @tokenHash, @previousTokenHash, @revokedAt, @revision, @doc)`,
      ),
      updateFactory: db.prepare<{ factoryId: string; tokenHash: string; previousTokenHash: string | null; revokedAt: number | null; revision: number; doc: string }>(
        `UPDATE factory_credentials SET token_hash = @tokenHash, previous_token_hash = @previousTokenHash, revoked_at = @revokedAt,
         revision = @revision, doc = @doc WHERE factory_id = @factoryId AND revision = @revision - 1`,
      ),
      insertKey: db.prepare<{ keyHash: string; name: string; revokedAt: number | null; doc: string }>(
        'INSERT INTO api_keys (key_hash, name, revoked_at, doc) VALUES (@keyHash, @name, @revokedAt, @doc) ON CONFLICT DO NOTHING',
      ),
      keyByHash: db.prepare<[string], Doc>('SELECT doc FROM api_keys WHERE key_hash = ?'),
      keyByName: db.prepare<[string], Doc>('SELECT doc FROM api_keys WHERE name = ?'),
      listKeys: db.prepare<[], Doc>('SELECT doc FROM api_keys ORDER BY name'),
      revokeKey: db.prepare<[number, string, string]>('UPDATE api_keys SET revoked_at = ?, doc = ? WHERE name = ? AND revoked_at IS NULL'),
    };
  }

  async insertEnrollmentToken(token: EnrollmentTokenRecord): Promise<void> {
    this.#open().insertEnrollment.run({ tokenHash: token.tokenHash, id: token.id, expiresAt: token.expiresAt, usedAt: token.usedAt, doc: JSON.stringify(token) });
  }

  async findEnrollmentToken(tokenHash: string): Promise<EnrollmentTokenRecord | null> {
    return parse<EnrollmentTokenRecord>(this.#open().enrollmentByHash.get(tokenHash));
  }

  async redeemEnrollmentToken(tokenHash: string, now: number, credential: FactoryCredentialRecord): Promise<RedeemOutcome> {
    const sql = this.#open();
    return this.#db
      .transaction((): RedeemOutcome => {
        const token = parse<EnrollmentTokenRecord>(sql.enrollmentByHash.get(tokenHash));
        if (!token) return { t: 'not_found' };
        if (token.usedAt !== null) return { t: 'used', token };
        if (token.expiresAt <= now) return { t: 'expired', token };
        const existing = parse<FactoryCredentialRecord>(sql.factoryById.get(credential.factoryId));
        if (existing && existing.revokedAt === null) return { t: 'factory_enrolled' };
        const used = { ...token, usedAt: now, usedBy: credential.factoryId };
        sql.markEnrollmentUsed.run(now, JSON.stringify(used), tokenHash);
        const stored = { ...credential, revision: (existing?.revision ?? 0) + 1 };
        (existing ? sql.updateFactory : sql.insertFactory).run(factoryParams(stored));
        return { t: 'redeemed', token: used };
      })
      .immediate();
  }

  async getFactoryCredential(factoryId: string): Promise<FactoryCredentialRecord | null> {
    return parse<FactoryCredentialRecord>(this.#open().factoryById.get(factoryId));
  }

  async findFactoryCredential(tokenHash: string): Promise<FactoryCredentialRecord | null> {
    return parse<FactoryCredentialRecord>(this.#open().factoryByHash.get(tokenHash, tokenHash));
  }

  async putFactoryCredential(next: FactoryCredentialRecord): Promise<void> {
    const sql = this.#open();
    const changes = next.revision === 1 ? insertOrZero(() => sql.insertFactory.run(factoryParams(next)).changes) : sql.updateFactory.run(factoryParams(next)).changes;
    if (changes === 0) throw new RevisionConflict(next.factoryId, next.revision - 1);
  }

  async revokedAmong(factoryIds: readonly string[]): Promise<string[]> {
    const sql = this.#open();
    return factoryIds.filter((id) => (parse<FactoryCredentialRecord>(sql.factoryById.get(id))?.revokedAt ?? null) !== null);
  }

  async insertApiKey(key: ApiKeyRecord): Promise<'inserted' | 'name_taken'> {
    const { changes } = this.#open().insertKey.run({ keyHash: key.keyHash, name: key.name, revokedAt: key.revokedAt, doc: JSON.stringify(key) });
    return changes === 1 ? 'inserted' : 'name_taken';
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRecord | null> {
    return parse<ApiKeyRecord>(this.#open().keyByHash.get(keyHash));
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.#open().listKeys.all().map((row) => JSON.parse(row.doc) as ApiKeyRecord);
  }

  async revokeApiKey(name: string, at: number, by: string): Promise<ApiKeyRecord | null> {
    const sql = this.#open();
    return this.#db
      .transaction(() => {
        const key = parse<ApiKeyRecord>(sql.keyByName.get(name));
        if (!key || key.revokedAt !== null) return key;
        const revoked = { ...key, revokedAt: at, revokedBy: by };
        sql.revokeKey.run(at, JSON.stringify(revoked), name);
        return revoked;
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  #open() {
    if (!this.#db.open) throw new StoreClosed();
    return this.#sql;
  }
}

function parse<T>(row: Doc | undefined): T | null {
  return row ? (JSON.parse(row.doc) as T) : null;
}

function factoryParams(f: FactoryCredentialRecord) {
  return { factoryId: f.factoryId, tokenHash: f.tokenHash, previousTokenHash: f.previousTokenHash, revokedAt: f.revokedAt, revision: f.revision, doc: JSON.stringify(f) };
}

/** A primary-key clash on insert is a lost race, reported like a failed compare-and-set. */
function insertOrZero(run: () => number): number {
  try {
    return run();
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) return 0;
    throw err;
  }
}

/**
 * Credentials as the coordinator manages them: authenticate a presented token, issue enrollment
 * tokens, enroll factories, rotate and revoke factory tokens, create and revoke API keys. Every secret
 * is returned once, by the call that made it; the store only ever sees its hash.
 */
import {
  validateFactoryId,
  validateGrants,
  validateKeyName,
  validateProducts,
  type FactoryScope,
  type LabelGrant,
  type Principal,
  type Role,
} from '../domain/credentials.js';
import { DomainError, failedPrecondition, invalidArgument, notFound } from '../domain/errors.js';
import { RevisionConflict } from '../store/job-store.js';
import type { ApiKeyRecord, EnrollmentTokenRecord, FactoryCredentialRecord, SecurityStore } from '../store/security-store.js';
import type { Clock } from './clock.js';
import { hashSecret, newSecret, publicId, secretKind } from './secrets.js';

export interface SecuritySettings {
  /** How long a factory's previous token keeps working after a rotation. */
  rotationOverlapMs: number;
}

export const ENROLLMENT_TTL = { defaultMs: 60 * 60_000, minMs: 1_000, maxMs: 7 * 24 * 60 * 60_000 } as const;

export interface EnrollmentTokenInput {
  /** 0 means the default. */
  ttlMs: number;
  allowedLabels: LabelGrant[];
  allowedProducts: string[];
  factoryId: string;
  description: string;
}

const unauthenticated = (message: string): DomainError => new DomainError('unauthenticated', message);
const iso = (ms: number): string => new Date(ms).toISOString();
const CAS_ATTEMPTS = 5;

export class Security {
  constructor(
    readonly store: SecurityStore,
    private readonly clock: Clock,
    readonly settings: SecuritySettings,
  ) {}

  /** Who presents `token`; UNAUTHENTICATED with the reason when nobody (never echoing the token). */
  async authenticate(token: string): Promise<Principal> {
    const kind = secretKind(token);
    const hash = hashSecret(token);
    const now = this.clock.now();
    switch (kind) {
      case 'key': {
        const key = await this.store.findApiKey(hash);
        if (!key) throw unauthenticated('unknown API key');
        if (key.revokedAt !== null) throw keyRevoked(key);
        return { kind: 'key', keyId: key.id, name: key.name, role: key.role };
      }
      case 'factory': {
        const f = await this.store.findFactoryCredential(hash);
        if (!f) throw unauthenticated('unknown factory token');
        if (f.revokedAt !== null) throw unauthenticated(`factory "${f.factoryId}" was revoked at ${iso(f.revokedAt)}; it must be enrolled again`);
        if (f.tokenHash !== hash && (f.previousExpiresAt ?? 0) <= now) {
          throw unauthenticated(`this token of factory "${f.factoryId}" was replaced by a rotation; its overlap ended at ${iso(f.previousExpiresAt ?? 0)}`);
        }
        return { kind: 'factory', scope: scopeOf(f) };
      }
      case 'enrollment': {
        const t = await this.store.findEnrollmentToken(hash);
        if (!t) throw unauthenticated('unknown enrollment token');
        if (t.usedAt !== null) throw unauthenticated(`enrollment token ${t.id} was already used (by factory "${t.usedBy}" at ${iso(t.usedAt)}); tokens work once`);
        if (t.expiresAt <= now) throw unauthenticated(`enrollment token ${t.id} expired at ${iso(t.expiresAt)}`);
        return { kind: 'enrollment', tokenId: t.id, tokenHash: hash };
      }
      default:
        throw unauthenticated('the bearer token is not a gigafactory credential (API keys start gfk_, factory tokens gff_, enrollment tokens gfe_)');
    }
  }

  async createEnrollmentToken(input: EnrollmentTokenInput, actor: string): Promise<{ token: string; record: EnrollmentTokenRecord }> {
    const ttlMs = input.ttlMs || ENROLLMENT_TTL.defaultMs;
    if (ttlMs < ENROLLMENT_TTL.minMs || ttlMs > ENROLLMENT_TTL.maxMs) {
      throw invalidArgument(`ttl must be from 1 second to 7 days, got ${ttlMs} ms`);
    }
    if (input.factoryId) validateFactoryId(input.factoryId, 'factory_id');
    const now = this.clock.now();
    const token = newSecret('enrollment');
    const record: EnrollmentTokenRecord = {
      id: publicId('enr'),
      tokenHash: hashSecret(token),
      createdAt: now,
      expiresAt: now + ttlMs,
      createdBy: actor,
      allowedLabels: validateGrants(input.allowedLabels, 'allowed_labels'),
      allowedProducts: validateProducts(input.allowedProducts, 'allowed_products'),
      factoryId: input.factoryId,
      description: input.description.slice(0, 500),
      usedAt: null,
      usedBy: null,
    };
    await this.store.insertEnrollmentToken(record);
    return { token, record };
  }

  /** Trades the enrollment token behind `principal` for a factory credential; works once. */
  async enroll(principal: Extract<Principal, { kind: 'enrollment' }>, factoryId: string): Promise<{ token: string; credential: FactoryCredentialRecord }> {
    if (!factoryId) throw invalidArgument('factory_id is required');
    validateFactoryId(factoryId, 'factory_id');
    const enrollment = await this.store.findEnrollmentToken(principal.tokenHash);
    if (!enrollment) throw unauthenticated('unknown enrollment token');
    if (enrollment.factoryId && enrollment.factoryId !== factoryId) {
      throw new DomainError('permission_denied', `enrollment token ${enrollment.id} is for factory "${enrollment.factoryId}", not "${factoryId}"`);
    }
    const now = this.clock.now();
    const token = newSecret('factory');
    const credential: FactoryCredentialRecord = {
      factoryId,
      tokenHash: hashSecret(token),
      previousTokenHash: null,
      previousExpiresAt: null,
      allowedLabels: enrollment.allowedLabels,
      allowedProducts: enrollment.allowedProducts,
      enrolledAt: now,
      enrollmentTokenId: enrollment.id,
      rotatedAt: null,
      revokedAt: null,
      revokedBy: null,
      revokeReason: '',
      revision: 1,
    };
    const outcome = await this.store.redeemEnrollmentToken(principal.tokenHash, now, credential);
    switch (outcome.t) {
      case 'redeemed':
        return { token, credential };
      case 'factory_enrolled':
        throw new DomainError('already_exists', `factory "${factoryId}" is already enrolled; revoke it first (AdminService.RevokeFactory) or rotate its token`);
      case 'used':
        throw unauthenticated(`enrollment token ${outcome.token.id} was already used (by factory "${outcome.token.usedBy}"); tokens work once`);
      case 'expired':
        throw unauthenticated(`enrollment token ${outcome.token.id} expired at ${iso(outcome.token.expiresAt)}`);
      case 'not_found':
        throw unauthenticated('unknown enrollment token');
    }
  }

  /**
   * A credential made by the coordinator itself, without enrollment (the in-process local agent):
   * a fresh token replacing any earlier one at once.
   */
  async issueFactoryToken(scope: FactoryScope): Promise<string> {
    const token = newSecret('factory');
    await this.changeFactory(scope.factoryId, (current, now) => ({
      factoryId: scope.factoryId,
      tokenHash: hashSecret(token),
      previousTokenHash: null,
      previousExpiresAt: null,
      allowedLabels: scope.allowedLabels,
      allowedProducts: scope.allowedProducts,
      enrolledAt: now,
      enrollmentTokenId: '',
      rotatedAt: null,
      revokedAt: null,
      revokedBy: null,
      revokeReason: '',
      revision: (current?.revision ?? 0) + 1,
    }));
    return token;
  }

  /** A new token; the current one keeps working for the overlap (an older previous one stops now). */
  async rotateFactoryToken(factoryId: string): Promise<{ token: string; previousExpiresAt: number }> {
    const token = newSecret('factory');
    const updated = await this.changeFactory(factoryId, (current, now) => {
      if (!current) throw notFound(`factory "${factoryId}" is not enrolled`);
      if (current.revokedAt !== null) throw failedPrecondition(`factory "${factoryId}" was revoked at ${iso(current.revokedAt)}; enroll it again instead`);
      return {
        ...current,
        tokenHash: hashSecret(token),
        previousTokenHash: current.tokenHash,
        previousExpiresAt: now + this.settings.rotationOverlapMs,
        rotatedAt: now,
        revision: current.revision + 1,
      };
    });
    return { token, previousExpiresAt: updated.previousExpiresAt! };
  }

  /** Refuses the factory's tokens from now on. Idempotent: revoking again changes nothing. */
  async revokeFactory(factoryId: string, actor: string, reason: string): Promise<FactoryCredentialRecord> {
    if (!factoryId) throw invalidArgument('factory_id is required');
    return this.changeFactory(factoryId, (current, now) => {
      if (!current) throw notFound(`factory "${factoryId}" is not enrolled`);
      if (current.revokedAt !== null) return null;
      return { ...current, revokedAt: now, revokedBy: actor, revokeReason: reason.slice(0, 500), previousTokenHash: null, previousExpiresAt: null, revision: current.revision + 1 };
    });
  }

  async createApiKey(name: string, role: Role, actor: string): Promise<{ key: string; record: ApiKeyRecord }> {
    validateKeyName(name);
    const key = newSecret('key');
    const record: ApiKeyRecord = { id: publicId('key'), name, role, keyHash: hashSecret(key), createdAt: this.clock.now(), createdBy: actor, revokedAt: null, revokedBy: null };
    if ((await this.store.insertApiKey(record)) === 'name_taken') {
      throw new DomainError('already_exists', `an API key named "${name}" exists (names are never reused, even after revocation)`);
    }
    return { key, record };
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.store.listApiKeys();
  }

  async revokeApiKey(name: string, actor: string): Promise<ApiKeyRecord> {
    if (!name) throw invalidArgument('name is required');
    const revoked = await this.store.revokeApiKey(name, this.clock.now(), actor);
    if (!revoked) throw notFound(`no API key named "${name}"`);
    return revoked;
  }

  /** Of these keys, the revoked ones, each with the refusal its holder now gets. */
  async revokedKeys(keyIds: readonly string[]): Promise<Map<string, DomainError>> {
    const wanted = new Set(keyIds);
    const revoked = new Map<string, DomainError>();
    for (const key of await this.store.listApiKeys()) if (wanted.has(key.id) && key.revokedAt !== null) revoked.set(key.id, keyRevoked(key));
    return revoked;
  }

  /** Read-decide-compare-and-set on one factory credential; `decide` returning null changes nothing. */
  private async changeFactory(
    factoryId: string,
    decide: (current: FactoryCredentialRecord | null, now: number) => FactoryCredentialRecord | null,
  ): Promise<FactoryCredentialRecord> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.store.getFactoryCredential(factoryId);
      const next = decide(current, this.clock.now());
      if (!next) return current!;
      try {
        await this.store.putFactoryCredential(next);
        return next;
      } catch (err) {
        if (err instanceof RevisionConflict && attempt < CAS_ATTEMPTS) continue;
        if (err instanceof RevisionConflict) throw new DomainError('conflict', `factory "${factoryId}" is changing too often; try again`);
        throw err;
      }
    }
  }
}

export function scopeOf(f: FactoryCredentialRecord): FactoryScope {
  return { factoryId: f.factoryId, allowedLabels: f.allowedLabels, allowedProducts: f.allowedProducts };
}

/** What a revoked key's holder is told, on a new call or on a stream it had open. */
export function keyRevoked(key: ApiKeyRecord): DomainError {
  return unauthenticated(`API key "${key.name}" was revoked at ${iso(key.revokedAt ?? 0)}`);
}

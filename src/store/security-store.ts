/**
 * SecurityStore keeps the credentials: enrollment tokens, enrolled factories and operator API keys.
 * Only hashes of the secrets are stored (sha256 of a 256-bit random token), so a copy of the
 * database does not let anyone in. Kept apart from JobStore on purpose: it is small, changes rarely,
 * and its providers (SQLite in the coordinator's file, memory for tests) need no job semantics.
 */
import type { LabelGrant, Role } from '../domain/credentials.js';

export interface EnrollmentTokenRecord {
  /** Public id ("enr_..."), safe to log. */
  id: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  /** Who made it (a key name). */
  createdBy: string;
  allowedLabels: LabelGrant[];
  allowedProducts: string[];
  /** '' when any factory id may enroll with it. */
  factoryId: string;
  description: string;
  usedAt: number | null;
  /** The factory that enrolled with it. */
  usedBy: string | null;
}

export interface FactoryCredentialRecord {
  factoryId: string;
  tokenHash: string;
  /** After a rotation, the old token's hash, accepted until previousExpiresAt. */
  previousTokenHash: string | null;
  previousExpiresAt: number | null;
  allowedLabels: LabelGrant[];
  allowedProducts: string[];
  enrolledAt: number;
  /** The enrollment token it came from ('' when minted by the coordinator itself, e.g. the local agent). */
  enrollmentTokenId: string;
  rotatedAt: number | null;
  revokedAt: number | null;
  revokedBy: string | null;
  revokeReason: string;
  /** +1 on every change; compare-and-set token. */
  revision: number;
}

export interface ApiKeyRecord {
  /** Public id ("key_..."), safe to log. */
  id: string;
  /** Unique, never reused (so events stay attributable). */
  name: string;
  role: Role;
  keyHash: string;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
  revokedBy: string | null;
}

export type RedeemOutcome =
  | { t: 'redeemed'; token: EnrollmentTokenRecord }
  | { t: 'not_found' }
  | { t: 'used'; token: EnrollmentTokenRecord }
  | { t: 'expired'; token: EnrollmentTokenRecord }
  | { t: 'factory_enrolled' };

export interface SecurityStore {
  insertEnrollmentToken(token: EnrollmentTokenRecord): Promise<void>;
  findEnrollmentToken(tokenHash: string): Promise<EnrollmentTokenRecord | null>;
  /**
   * Marks the token used by `credential.factoryId` and stores the credential, atomically: of two
   * concurrent redemptions exactly one wins. Refused when the token is unknown, used or expired at
   * `now`, or when a factory with that id is enrolled and not revoked.
   */
  redeemEnrollmentToken(tokenHash: string, now: number, credential: FactoryCredentialRecord): Promise<RedeemOutcome>;

  getFactoryCredential(factoryId: string): Promise<FactoryCredentialRecord | null>;
  /** The credential whose current or previous token has this hash. */
  findFactoryCredential(tokenHash: string): Promise<FactoryCredentialRecord | null>;
  /** Insert (revision 1) or compare-and-set on `next.revision - 1`; throws RevisionConflict otherwise. */
  putFactoryCredential(next: FactoryCredentialRecord): Promise<void>;
  /**
   * Of these factory ids, those whose credential is revoked (any order). One call for every
   * factory a replica serves: how a replica learns of a revocation made on another (shared stores).
   */
  revokedAmong(factoryIds: readonly string[]): Promise<string[]>;

  /** 'name_taken' when a key (even a revoked one) already has the name. */
  insertApiKey(key: ApiKeyRecord): Promise<'inserted' | 'name_taken'>;
  findApiKey(keyHash: string): Promise<ApiKeyRecord | null>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Sets revokedAt/revokedBy unless already revoked; null when there is no key with the name. */
  revokeApiKey(name: string, at: number, by: string): Promise<ApiKeyRecord | null>;

  close(): Promise<void>;
}

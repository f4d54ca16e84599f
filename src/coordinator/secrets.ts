/**
 * The secrets the coordinator hands out: 256 random bits, base64url, behind a prefix that says what
 * the token is for (so a misplaced token gets a helpful refusal). Only their sha256 is stored.
 */
import { createHash, randomBytes } from 'node:crypto';

export type SecretKind = 'enrollment' | 'factory' | 'key';

const PREFIX: Record<SecretKind, string> = { enrollment: 'gfe_', factory: 'gff_', key: 'gfk_' };
/** 32 bytes in base64url without padding. */
const BODY = /^[A-Za-z0-9_-]{43}$/;

export function newSecret(kind: SecretKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

/** Hex sha256: what the store keeps and looks secrets up by. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** What a presented token claims to be, from its shape; null when it is no token of ours. */
export function secretKind(token: string): SecretKind | null {
  for (const [kind, prefix] of Object.entries(PREFIX) as [SecretKind, string][]) {
    if (token.startsWith(prefix) && BODY.test(token.slice(prefix.length))) return kind;
  }
  return null;
}

/** A short public id for a record ("enr_3f9a…"): derived from nothing secret. */
export function publicId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/**
 * The lease token a job carries (GIGAFACTORY_LEASE_TOKEN): what it claims, its compact text form,
 * and the rule that says whether it still names the job's current lease. Signing and verifying are
 * the coordinator's (coordinator/lease-keys.ts); this module only shapes bytes and decides.
 *
 * Form: `gfl1.<claims>.<signature>`, both parts base64url without padding; the claims are JSON
 * {"j": job id, "e": epoch, "f": factory id, "x": expiry in Unix seconds, "k": key id}; the
 * signature is Ed25519 over the ASCII bytes of `gfl1.<claims>`. Short keys keep a token near 200
 * characters, small enough for a header or a commit trailer.
 */
import { invalidArgument } from './errors.js';
import type { JobRecord } from './job.js';

export const LEASE_TOKEN_PREFIX = 'gfl1';

/** Longer than any token we mint (ids are at most a few hundred characters); refused before parsing. */
const MAX_TOKEN_CHARS = 4_096;

export interface LeaseClaims {
  jobId: string;
  epoch: number;
  factoryId: string;
  /** Epoch milliseconds (whole seconds on the wire). */
  expiresAt: number;
  keyId: string;
}

/** A token taken apart: the bytes the signature covers, the signature, and the claims. */
export interface ParsedLeaseToken {
  signed: string;
  signature: Buffer;
  claims: LeaseClaims;
}

/** The part of a token the signature covers. */
export function signedPart(claims: LeaseClaims): string {
  const json = JSON.stringify({ j: claims.jobId, e: claims.epoch, f: claims.factoryId, x: Math.floor(claims.expiresAt / 1000), k: claims.keyId });
  return `${LEASE_TOKEN_PREFIX}.${Buffer.from(json).toString('base64url')}`;
}

export function joinToken(signed: string, signature: Buffer): string {
  return `${signed}.${signature.toString('base64url')}`;
}

/** Takes a token apart; INVALID_ARGUMENT saying what is wrong when it is not one. */
export function parseLeaseToken(token: string): ParsedLeaseToken {
  if (token === '') throw invalidArgument('token is empty: pass the job\'s GIGAFACTORY_LEASE_TOKEN');
  if (token.length > MAX_TOKEN_CHARS) throw invalidArgument(`token is ${token.length} characters; a lease token is at most ${MAX_TOKEN_CHARS}`);
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== LEASE_TOKEN_PREFIX) {
    throw invalidArgument(`token ${JSON.stringify(token.slice(0, 12))}... is not a lease token: expected "${LEASE_TOKEN_PREFIX}.<claims>.<signature>"`);
  }
  const [prefix, body, sig] = parts as [string, string, string];
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw invalidArgument('token claims are not base64url JSON');
  }
  const c = raw as Record<string, unknown>;
  if (typeof c !== 'object' || c === null || typeof c.j !== 'string' || !Number.isSafeInteger(c.e) || typeof c.f !== 'string' || !Number.isSafeInteger(c.x) || typeof c.k !== 'string') {
    throw invalidArgument('token claims must have j (job id), e (epoch), f (factory id), x (expiry seconds) and k (key id)');
  }
  return {
    signed: `${prefix}.${body}`,
    signature: Buffer.from(sig, 'base64url'),
    claims: { jobId: c.j, epoch: c.e as number, factoryId: c.f, expiresAt: (c.x as number) * 1000, keyId: c.k },
  };
}

/** Why a verified token's lease is not the job's current one at `now`, or null when it is. */
export function staleLeaseReason(claims: LeaseClaims, job: JobRecord | null, now: number): string | null {
  if (claims.expiresAt <= now) return `token expired at ${new Date(claims.expiresAt).toISOString()}`;
  if (!job) return `job ${claims.jobId} not found`;
  if (job.epoch > claims.epoch) return `superseded: job ${job.id} is at epoch ${job.epoch}, the token is for epoch ${claims.epoch}`;
  const lease = job.lease;
  if (!lease || lease.epoch !== claims.epoch) return `the lease of epoch ${claims.epoch} has ended (job ${job.id} is ${job.stage})`;
  if (lease.factoryId !== claims.factoryId) return `the lease of epoch ${claims.epoch} is held by ${lease.factoryId}, not ${claims.factoryId}`;
  if (lease.expiresAt <= now) return `the lease of epoch ${claims.epoch} lapsed at ${new Date(lease.expiresAt).toISOString()} (no heartbeat)`;
  return null;
}

/**
 * ListJobs page tokens: the cursor plus a fingerprint of the filter it was made for, with a checksum.
 * Opaque to clients; a token that was edited, truncated or reused with another filter is refused
 * with INVALID_ARGUMENT instead of silently returning the wrong page.
 */
import { createHash } from 'node:crypto';
import { invalidArgument } from '../domain/errors.js';
import type { JobCursor } from '../store/job-store.js';

const VERSION = 1;

export function encodePageToken(cursor: JobCursor, filterFingerprint: string): string {
  const body = Buffer.from(JSON.stringify({ v: VERSION, c: cursor.createdAt, i: cursor.id, ...(cursor.value !== undefined ? { k: cursor.value } : {}), f: filterFingerprint }));
  return `${body.toString('base64url')}.${checksum(body)}`;
}

export function decodePageToken(token: string, filterFingerprint: string): JobCursor {
  const [bodyText, sum, extra] = token.split('.');
  if (!bodyText || !sum || extra !== undefined) throw invalidArgument('page_token is malformed');
  const body = Buffer.from(bodyText, 'base64url');
  if (checksum(body) !== sum) throw invalidArgument('page_token is corrupt or was modified');
  const parsed = parseJson(body.toString('utf8'));
  if (!isTokenBody(parsed)) throw invalidArgument('page_token is malformed');
  if (parsed.f !== filterFingerprint) {
    throw invalidArgument('page_token was issued for a different filter; repeat the same filter or start without a token');
  }
  return { createdAt: parsed.c, id: parsed.i, ...(parsed.k !== undefined ? { value: parsed.k } : {}) };
}

/** A stable string for a filter: the same filter always gives the same fingerprint. */
export function filterFingerprint(filter: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(filter)).digest('base64url').slice(0, 16);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function checksum(body: Buffer): string {
  return createHash('sha256').update('gigafactory-page-token').update(body).digest('base64url').slice(0, 22);
}

/** `k`: the sort value, present only for orders by another field than create time. */
function isTokenBody(x: unknown): x is { v: number; c: number; i: string; k?: number | string; f: string } {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  const k = o.k;
  return o.v === VERSION && typeof o.c === 'number' && typeof o.i === 'string' && typeof o.f === 'string' && (k === undefined || typeof k === 'number' || typeof k === 'string');
}

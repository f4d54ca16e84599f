/**
 * Tracker echo signatures: `x-gigafactory-signature: sha256=<hex HMAC-SHA256 of the raw body>`,
 * keyed with the configured secret. A receiver recomputes it over the bytes it received and
 * compares in constant time (verifyEchoSignature is what docs/tracker.md's example does).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-gigafactory-signature';
export const EVENT_ID_HEADER = 'x-gigafactory-event-id';
export const TIMESTAMP_HEADER = 'x-gigafactory-timestamp';

export function signEcho(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** True when `signature` (the header's value) is the body's signature under `secret`. */
export function verifyEchoSignature(secret: string, body: string | Uint8Array, signature: string): boolean {
  const expected = Buffer.from(signEcho(secret, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

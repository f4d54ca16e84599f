import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID-shaped id: 48 bits of milliseconds then 80 random bits, Crockford base32, so ids sort by
 * creation time (handy in logs and as a stable tie-breaker) and never collide across replicas.
 */
export function newId(prefix: string, nowMs: number, random: Uint8Array = randomBytes(10)): string {
  let time = '';
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let bits = 0;
  let value = 0;
  let rand = '';
  for (const byte of random) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      rand += CROCKFORD[(value >> bits) & 31];
    }
  }
  return `${prefix}_${time}${rand}`;
}

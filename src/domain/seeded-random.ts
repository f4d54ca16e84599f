/**
 * A small seeded pseudo-random generator (mulberry32): the same seed gives the same numbers on every
 * machine, so a bootstrap interval or a weight search can be reproduced. Not for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a: a cheap, stable spread of strings over 32 bits (not security, not randomness). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * A string's FNV-1a, mixed (MurmurHash3's finalizer), as a number in [0, 1): a stable per-id coin.
 * FNV-1a alone leaves ids that differ in their last characters unevenly spread in the high bits.
 */
export function stableFraction(text: string): number {
  let h = fnv1a(text);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4_294_967_296;
}

/**
 * Random bytes for job ids, from a counter: the coordinator's ids are its only other source of
 * randomness, and ids break ties in queue order, so a replayed seed needs the same ids.
 * The simulation test mocks src/coordinator/ids.js to use these.
 */
let counter = 0;

export function resetIdBytes(): void {
  counter = 0;
}

export function nextIdBytes(): Uint8Array {
  counter++;
  const bytes = new Uint8Array(10);
  let n = counter;
  for (let i = bytes.length - 1; i >= 0 && n > 0; i--) {
    bytes[i] = n & 0xff;
    n = Math.floor(n / 256);
  }
  return bytes;
}

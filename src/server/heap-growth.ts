/**
 * How far V8 lets the coordinator's heap grow between full collections (the `heapGrowingPercent`
 * setting, 30 % by default; issue #9).
 *
 * After each full collection V8 sets the next one's trigger at the heap it kept times a growing
 * factor, which on a machine with several GiB of memory goes up to 4. A coordinator holding 10,000
 * idle factory streams keeps about 500 MB live, and every heartbeat replaces the state each stream
 * holds suspended in the transport; that state lives for a heartbeat interval, longer than the young
 * generation, so it is promoted and dies in the old generation (about 19 MB/s at 2,000 heartbeats/s).
 * With V8's own factor the heap filled with it to 1.5–2.3 GiB RSS before a full collection; at 1.3
 * it stays under 1 GiB. The price is a full collection every 8–10 s instead of every minute or so,
 * about 0.15 cores more, and each collection's stall of the event loop (0.5–1.5 s on 2 cores with
 * 500 MB live, the same with either factor) comes that much more often. It is a factor, not a cap: a
 * larger fleet still gets all the heap it needs. bench/README.md has the figures.
 *
 * Set once at start by the process entry points (`gigafactory serve`, the benchmark's coordinator),
 * not by startServer: it is process-wide, and tests embed servers in processes of their own.
 */
import { setFlagsFromString } from 'node:v8';

/** Applies `percent` (the heapGrowingPercent setting); 0 leaves V8's own heuristic in place. */
export function applyHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * Partition ownership for coordinator replicas that divide the work instead of racing for it
 * (docs/scaling-out.md, "Dividing the work"). The job space is split into a fixed number of
 * partitions by a hash of the job id; each partition is held by one replica under a lease of its own
 * (a lease-table row per partition in the store, replaced with If-Match, so of two writers one wins),
 * and a replica examines and claims only the queued jobs of partitions it holds. Replicas announce
 * themselves in a membership table (a row each, renewed like a lease); from the same two tables every
 * replica computes the same fair, sticky assignment and moves towards it: it takes the free
 * partitions assigned to it, renews the ones it holds and keeps, and releases the ones assigned to
 * another replica. Pure: the caller brings the tables as read and the clock.
 *
 * The lease is an optimisation of who looks at which job, never what keeps a job safe: two replicas
 * that both believe they hold a partition (a stale read, a skewed clock, a network split) can both
 * offer one of its jobs, and the job's own epoch compare-and-set still lets one lease win.
 */

/** Enough partitions that 8 replicas each get 8, few enough that the lease table is one small query. */
export const DEFAULT_PARTITION_COUNT = 64;

/** The partition a job belongs to: FNV-1a (32 bit) of its id, modulo the partition count. */
export function partitionOf(jobId: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobId.length; i++) {
    hash ^= jobId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/** One row of the lease table. */
export interface PartitionLease {
  partition: number;
  /** The replica holding it; '' when free (never taken, or released). */
  owner: string;
  /** Incremented on every change of owner: names one holding of the partition. */
  epoch: number;
  /** When the lease lapses unless renewed, milliseconds on the store's clock as its writer read it. */
  expiresAt: number;
}

/** One row of the membership table: a replica that is alive until `expiresAt` unless it renews. */
export interface Member {
  id: string;
  expiresAt: number;
}

/** The ids of the members alive at `now`, sorted. */
export function liveMembers(members: readonly Member[], now: number): string[] {
  return [...new Set(members.filter((m) => m.expiresAt > now).map((m) => m.id))].sort();
}

/**
 * The owner each partition should have (index = partition), given the live members and the current
 * holders ('' for a free partition): every partition goes to a live member, each member gets
 * ⌊count / members⌋ or one more (the extra ones to those holding most, so a balanced table stays as
 * it is), and a partition stays with its holder while the holder is live and within its share, so a
 * member joining moves only its own share and a member leaving moves only what it held.
 * Every replica computes the same answer from the same tables.
 */
export function desiredOwners(count: number, live: readonly string[], holders: readonly string[]): string[] {
  const members = [...new Set(live)].sort();
  if (members.length === 0) return Array.from({ length: count }, () => '');
  const held = new Map(members.map((m) => [m, 0]));
  for (const h of holders) if (held.has(h)) held.set(h, held.get(h)! + 1);
  const base = Math.floor(count / members.length);
  const byHolding = [...members].sort((a, b) => held.get(b)! - held.get(a)! || (a < b ? -1 : 1));
  const quota = new Map(byHolding.map((m, i) => [m, base + (i < count % members.length ? 1 : 0)]));
  const assigned = new Map(members.map((m) => [m, 0]));
  const owners: string[] = Array.from({ length: count }, () => '');
  for (let p = 0; p < count; p++) {
    const holder = holders[p] ?? '';
    if (quota.has(holder) && assigned.get(holder)! < quota.get(holder)!) {
      owners[p] = holder;
      assigned.set(holder, assigned.get(holder)! + 1);
    }
  }
  for (let p = 0; p < count; p++) {
    if (owners[p] !== '') continue;
    let best = '';
    for (const m of members) if (best === '' || quota.get(m)! - assigned.get(m)! > quota.get(best)! - assigned.get(best)!) best = m;
    owners[p] = best;
    assigned.set(best, assigned.get(best)! + 1);
  }
  return owners;
}

/** What one replica writes to the lease table on a step, each row by compare-and-set on what it read. */
export interface LeaseStep {
  /** Free or lapsed partitions assigned to it: take (owner = self, epoch + 1). */
  acquire: number[];
  /** Partitions it holds and keeps: push `expiresAt` forward. */
  renew: number[];
  /** Partitions it holds that are assigned to another replica: free them (owner '', epoch + 1). */
  release: number[];
  /** Partitions assigned to it that another replica still holds: wait for their release (or lapse). */
  awaiting: number[];
}

/**
 * One replica's step towards the shared assignment, from the tables as it read them at `now`. A
 * partition whose lease has lapsed counts as free, so a dead replica's partitions are taken once its
 * leases lapse. A partition assigned to this replica but still held by another is left alone: the
 * holder releases it on its own step, or its lease lapses. The replica counts itself live.
 */
export function leaseStep(self: string, now: number, members: readonly Member[], leases: readonly PartitionLease[], count: number): LeaseStep {
  const holders = holdersAt(leases, now, count);
  const owners = desiredOwners(count, [...liveMembers(members, now), self], holders);
  const step: LeaseStep = { acquire: [], renew: [], release: [], awaiting: [] };
  for (let p = 0; p < count; p++) {
    if (owners[p] === self && holders[p] === self) step.renew.push(p);
    else if (owners[p] === self && holders[p] === '') step.acquire.push(p);
    else if (owners[p] !== self && holders[p] === self) step.release.push(p);
    else if (owners[p] === self) step.awaiting.push(p);
  }
  return step;
}

/** The holder of each partition at `now` ('' when free or lapsed). */
export function holdersAt(leases: readonly PartitionLease[], now: number, count: number): string[] {
  const holders: string[] = Array.from({ length: count }, () => '');
  for (const l of leases) if (l.partition >= 0 && l.partition < count && l.expiresAt > now) holders[l.partition] = l.owner;
  return holders;
}

/**
 * The partitions `self` may claim jobs from at `now` (its own clock): those it holds with at least
 * `skewMarginMs` of lease left, so a replica whose clock runs behind stops claiming before another
 * replica, whose clock runs ahead, sees the lease lapse and takes the partition. Safe while clocks
 * differ by less than the margin; beyond that, two replicas may claim in one partition for a while,
 * and the job's epoch still lets only one lease win.
 */
export function claimablePartitions(self: string, now: number, leases: readonly PartitionLease[], skewMarginMs: number): number[] {
  return leases
    .filter((l) => l.owner === self && l.expiresAt - skewMarginMs > now)
    .map((l) => l.partition)
    .sort((a, b) => a - b);
}

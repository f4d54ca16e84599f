/**
 * This replica's share of the work (docs/scaling-out.md, "Dividing the work"): on a step every
 * STEP_MS it reads the membership and partition tables (one query), renews its membership row (one
 * write; its partitions' leases last as long as that row), and moves towards the shared assignment
 * (domain/partitions.ts leaseStep): takes the free or lapsed partitions assigned to it and releases
 * the ones assigned to another replica, each by compare-and-set on the row it read. While the table
 * is not yet at the assignment (a replica joined or left), it steps every FAST_STEP_MS instead.
 *
 * What it decides is only which queued jobs this replica looks at (claimable()): a job's own epoch
 * compare-and-set keeps it safe when two replicas briefly both believe they hold its partition.
 * The single owner of this replica's view of the tables; the dispatcher and Jobs only ask it.
 */
import { randomBytes } from 'node:crypto';
import { claimablePartitions, DEFAULT_PARTITION_COUNT, leaseStep, liveMembers, partitionOf, type Member, type PartitionLease } from '../domain/partitions.js';
import type { Logger } from '../logging.js';
import type { PartitionRow, PartitionTable, PartitionTableStore, Versioned } from '../store/partition-table-store.js';
import type { Clock } from './clock.js';
import { newId } from './ids.js';

export interface PartitionTiming {
  /** A step at rest: read the tables, renew the membership row. */
  stepMs: number;
  /** Steps while partitions are still moving (something to take, or waiting for a release). */
  fastStepMs: number;
  /** How long a membership row (and with it its partitions) lasts without a renewal. */
  memberTtlMs: number;
  /**
   * A replica stops claiming this long before its own row lapses, so another replica whose clock
   * runs ahead by less than this never takes a partition it still claims from.
   */
  skewMarginMs: number;
  /** A membership row lapsed this long is deleted by whichever replica sees it. */
  forgetAfterMs: number;
}

export const PARTITION_TIMING: PartitionTiming = { stepMs: 2_000, fastStepMs: 500, memberTtlMs: 10_000, skewMarginMs: 2_000, forgetAfterMs: 60_000 };

export interface PartitionOwnerDeps {
  table: PartitionTableStore;
  clock: Clock;
  log: Logger;
  timing?: PartitionTiming;
  /** Partitions of the job space (DEFAULT_PARTITION_COUNT): fixed, every replica must agree. */
  count?: number;
  /** This process's member id; a new one per process start. */
  replicaId?: string;
}

/** What /metrics and the tests read. */
export interface PartitionOwnerStats {
  replicaId: string;
  /**
   * Partitions this replica holds and may claim from now: those it held at its last step, or none
   * once its row may have lapsed (a replica starved of CPU or cut off from Cosmos reports 0).
   */
  held: number;
  /** Live replicas in the table as last read, this one included. */
  members: number;
  /** Partitions taken and released since start, and steps whose store calls failed. */
  acquired: number;
  released: number;
  failedSteps: number;
}

export class PartitionOwner {
  readonly replicaId: string;
  private readonly timing: PartitionTiming;
  private readonly count: number;
  /** Partitions held as of the last step, and until when (this replica's clock) its row is fresh. */
  private held: number[] = [];
  private freshUntil = 0;
  private members = 0;
  private acquired = 0;
  private released = 0;
  private failedSteps = 0;
  private timer: NodeJS.Timeout | null = null;
  private stepping: Promise<void> | null = null;
  private stopped = false;
  /** The last step left partitions moving: step again after fastStepMs. */
  private nextFast = false;

  constructor(private readonly deps: PartitionOwnerDeps) {
    this.timing = deps.timing ?? PARTITION_TIMING;
    this.count = deps.count ?? DEFAULT_PARTITION_COUNT;
    this.replicaId = deps.replicaId ?? `replica_${randomBytes(8).toString('hex')}`;
  }

  /** Joins: the first step (resolves once it landed, or failed and will be retried), then the timer. */
  async start(): Promise<void> {
    await this.step();
    this.schedule();
  }

  /**
   * Leaves in order: stops claiming, releases every partition it holds and ends its membership, so
   * the others take its share on their next step instead of waiting for its row to lapse.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.stepping;
    this.held = [];
    try {
      const table = await this.deps.table.readTable();
      const mine = table.partitions.filter((p) => p.row.owner === this.replicaId);
      await Promise.all(mine.map((p) => this.deps.table.putPartition({ partition: p.row.partition, owner: '', epoch: p.row.epoch + 1 }, p.etag)));
      const member = table.members.find((m) => m.row.id === this.replicaId);
      if (member) await this.deps.table.removeMember(this.replicaId);
    } catch (err) {
      this.deps.log.warn({ err }, 'releasing partitions at shutdown failed; they are taken once this replica lapses');
    }
  }

  /** The partitions this replica may claim queued jobs from now (none once its row may have lapsed). */
  claimable(): number[] {
    const leases: PartitionLease[] = this.held.map((partition) => ({ partition, owner: this.replicaId, epoch: 0, expiresAt: this.freshUntil }));
    return claimablePartitions(this.replicaId, this.deps.clock.now(), leases, this.timing.skewMarginMs);
  }

  /**
   * A new job id in one of the partitions this replica may claim from, so a job submitted here is
   * offered by this replica's next dispatch pass rather than waiting for another replica's poll.
   * The id keeps its shape (time, then random); only the random part is drawn again, about
   * count / claimable times. A plain new id when this replica may claim from none.
   */
  newJobId(now: number): string {
    const mine = new Set(this.claimable());
    let id = newId('job', now);
    if (mine.size === 0) return id;
    while (!mine.has(partitionOf(id, this.count))) id = newId('job', now);
    return id;
  }

  stats(): PartitionOwnerStats {
    return { replicaId: this.replicaId, held: this.claimable().length, members: this.members, acquired: this.acquired, released: this.released, failedSteps: this.failedSteps };
  }

  /** One step now (the timer calls it; tests too). Steps never overlap. */
  step(): Promise<void> {
    this.stepping ??= this.stepOnce()
      .catch((err: unknown) => {
        this.failedSteps++;
        this.deps.log.warn({ err }, 'partition step failed; retrying on the next step');
        return false;
      })
      .then((moving) => {
        this.nextFast = moving;
      })
      .finally(() => {
        this.stepping = null;
      });
    return this.stepping;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.step().finally(() => this.schedule()), this.nextFast ? this.timing.fastStepMs : this.timing.stepMs);
    this.timer.unref();
  }

  /** Returns true while partitions are still moving towards the assignment. */
  private async stepOnce(): Promise<boolean> {
    const { table: store, clock } = this.deps;
    const table = await store.readTable();
    if (this.stopped) return false;
    const now = clock.now();
    const expiresAt = now + this.timing.memberTtlMs;
    const mine = table.members.find((m) => m.row.id === this.replicaId);
    if (!(await store.putMember({ id: this.replicaId, expiresAt }, mine?.etag ?? null))) {
      this.held = []; // not renewed: claim nothing until a step renews
      return true;
    }
    this.freshUntil = expiresAt;
    const members: Member[] = [...table.members.filter((m) => m.row.id !== this.replicaId).map((m) => m.row), { id: this.replicaId, expiresAt }];
    this.members = liveMembers(members, now).length;
    const { acquire, renew, release, awaiting } = leaseStep(this.replicaId, now, members, leasesOf(table, members, this.count), this.count);
    const rows = new Map(table.partitions.map((p) => [p.row.partition, p]));
    // Stop claiming from what is given away before it is written free.
    this.held = renew;
    const [taken, given] = await Promise.all([
      Promise.all(acquire.map((p) => this.write(p, this.replicaId, rows.get(p)))),
      Promise.all(release.map((p) => this.write(p, '', rows.get(p)))),
    ]);
    const won = acquire.filter((_, i) => taken[i]);
    this.acquired += won.length;
    this.released += given.filter(Boolean).length;
    this.held = [...renew, ...won].sort((a, b) => a - b);
    if (won.length > 0 || release.length > 0) this.deps.log.info({ replica: this.replicaId, took: won, released: release, held: this.held.length, members: this.members }, 'partitions moved');
    await this.forgetLapsed(table, now);
    return acquire.length > 0 || release.length > 0 || awaiting.length > 0;
  }

  /** Takes (owner = this replica) or frees (owner '') one partition, epoch + 1, by compare-and-set. */
  private write(partition: number, owner: string, current: Versioned<PartitionRow> | undefined): Promise<boolean> {
    return this.deps.table.putPartition({ partition, owner, epoch: (current?.row.epoch ?? 0) + 1 }, current?.etag ?? null);
  }

  /** Deletes membership rows lapsed long ago (each process start is a new member), so the table stays small. */
  private async forgetLapsed(table: PartitionTable, now: number): Promise<void> {
    const gone = table.members.filter((m) => m.row.expiresAt < now - this.timing.forgetAfterMs);
    for (const member of gone) await this.deps.table.removeMember(member.row.id);
  }
}

/** The partition rows as leases: each lasts as long as its owner's membership row. */
function leasesOf(table: PartitionTable, members: readonly Member[], count: number): PartitionLease[] {
  const expiry = new Map(members.map((m) => [m.id, m.expiresAt]));
  return table.partitions
    .filter((p) => p.row.partition >= 0 && p.row.partition < count && p.row.owner !== '')
    .map((p) => ({ partition: p.row.partition, owner: p.row.owner, epoch: p.row.epoch, expiresAt: expiry.get(p.row.owner) ?? 0 }));
}

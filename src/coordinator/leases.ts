/**
 * The owner of the lease book (domain/lease-book.ts): the session, the dispatcher, the feed
 * watcher and the reaper hand it what happened, and it carries out what the book decides — a
 * notice to a factory's stream, a compare-and-set through Jobs with a lifecycle function, a
 * dispatch pass into a freed slot — feeding each write's outcome back to the book.
 */
import { DomainError } from '../domain/errors.js';
import { isFinal, type JobRecord } from '../domain/job.js';
import { LeaseBook, type FactoryNotice, type LeaseEffect, type LeaseEvent, type LeaseWrite } from '../domain/lease-book.js';
import { accept, assertLeaseHolder, complete, expire, handedBack, meterCost, preempted, release, renew, shortenLease, type JobChange } from '../domain/lifecycle.js';
import type { Logger } from '../logging.js';
import type { JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import type { FleetObserver } from './fleet-observer.js';
import type { JobFeed } from './job-feed.js';
import type { JobWrites } from './job-writes.js';
import type { FleetSettings } from './lease-settings.js';

/** Where the notices for one connected factory go (its session, which speaks the wire). */
export interface FactoryPort {
  notify(notice: FactoryNotice): void;
  /** A draining factory holds nothing more. */
  drained(): void;
}

/** The reaper's work and its races with other writers (replicas, factories), for logs, tests and the benchmark. */
export interface ReaperRaces {
  /** Lapsed leases the reaper ended. */
  reaped: number;
  /** Expired leases another writer ended or renewed before this reaper could. */
  reaperRaced: number;
  /** Compare-and-set retries inside the reaper's writes. */
  reaperCasRetries: number;
}

export interface LeasesDeps {
  writes: Pick<JobWrites, 'mutate'>;
  store: Pick<JobStore, 'appendLog'>;
  feed: JobFeed;
  clock: Clock;
  settings: FleetSettings & { sharedStore?: boolean };
  random: () => number;
  log: Logger;
  observer: FleetObserver;
  /** Where the reaper's races are counted. */
  races: ReaperRaces;
  /** A slot came free or a job went back to the queue: ask for a dispatch pass. */
  onFreed: () => void;
  /** A lease listed in a hello was kept (a renewal publishes no event). */
  onResumed: (job: JobRecord) => void;
  /** A running attempt's cost moved (a metered write publishes no event unless it stops the job). */
  onMetered: (job: JobRecord) => void;
}

type WriteEffect = Extract<LeaseEffect, { t: 'write' }>;

export class Leases {
  readonly book: LeaseBook;
  private readonly races: ReaperRaces;
  private readonly ports = new Map<string, FactoryPort>();

  constructor(private readonly deps: LeasesDeps) {
    // While the coordinator was down no factory could renew a lease, so none loses one for that
    // silence: each gets a whole TTL (at least the reconnect grace) from the start to come back
    // through its reconnect back-off. With replicas a factory may come back to any of them, and
    // the others reap as usual, so no replica holds lapsed leases back after its start.
    const holdLapsedFor = deps.settings.sharedStore ? 0 : Math.max(deps.settings.reconnectGraceMs, deps.settings.leaseTtlMs);
    this.book = new LeaseBook(deps.settings, deps.clock.now() + holdLapsedFor);
    this.races = deps.races;
  }

  /** Notices for `factoryId` go to `port` from now on (a newer stream replaces an older one). */
  attach(factoryId: string, port: FactoryPort): void {
    this.ports.set(factoryId, port);
  }

  detach(factoryId: string, port: FactoryPort): void {
    if (this.ports.get(factoryId) === port) this.ports.delete(factoryId);
  }

  /**
   * Hands the book one event and carries out its effects; resolves once every write they caused
   * (and whatever those caused in turn) is done. Sends happen in the order the book gave them.
   */
  async apply(event: LeaseEvent): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const effect of this.book.apply(event)) {
      switch (effect.t) {
        case 'send':
          if (effect.notice.t === 'revoke' && effect.notice.refusal !== undefined) this.deps.observer.refused(effect.notice.refusal);
          this.ports.get(effect.factoryId)?.notify(effect.notice);
          break;
        case 'freed':
          this.deps.onFreed();
          break;
        case 'drained':
          this.ports.get(effect.factoryId)?.drained();
          break;
        case 'write':
          writes.push(this.write(effect));
          break;
      }
    }
    if (writes.length > 0) await Promise.all(writes);
  }

  private async write(effect: WriteEffect): Promise<void> {
    const { factoryId, jobId, epoch, write } = effect;
    const reply = { factoryId, jobId, epoch, write: write.t };
    if (write.t === 'log') {
      const outcome = await this.deps.store.appendLog(write.chunk);
      if (outcome === 'stored') this.deps.feed.publishLog(write.chunk);
      else if (outcome === 'stale_epoch' || outcome === 'not_found') await this.apply({ t: 'refused', ...reply, code: outcome, reason: `log refused: ${outcome.replace('_', ' ')}` });
      return;
    }
    let decisions = 0;
    let changed = false;
    let job: JobRecord;
    try {
      // A result for an offer the store shows unaccepted: the holder ran it, so it is accepted first.
      const known = write.t === 'complete' ? await this.deps.writes.mutate(jobId, (current) => (current.stage === 'leased' ? this.decide(current, factoryId, epoch, { t: 'resume' }) : null), effect.known) : effect.known;
      job = await this.deps.writes.mutate(
        jobId,
        (current) => {
          decisions++;
          const change = this.decide(current, factoryId, epoch, write);
          changed = change !== null;
          return change;
        },
        known,
      );
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      if (write.t === 'expire' && write.lapsedBy !== undefined) this.races.reaperRaced++;
      if (write.t === 'shorten') {
        this.deps.log.warn({ err, factoryId, jobId }, 'could not shorten the lease of a broken stream; it runs its TTL');
      }
      await this.apply({ t: 'refused', ...reply, code: err.code, reason: err.message });
      return;
    }
    if (write.t === 'expire' && write.lapsedBy !== undefined) {
      this.races.reaperCasRetries += Math.max(0, decisions - 1);
      if (changed) this.races.reaped++;
      else this.races.reaperRaced++; // another writer got there first: fenced, harmless
    }
    if (write.t === 'resume') this.deps.onResumed(job);
    if (write.t === 'cost' && changed) this.deps.onMetered(job);
    await this.apply({ t: 'written', ...reply, job });
  }

  /** The lifecycle decision for one write on the stored record; null when there is nothing to change. */
  private decide(job: JobRecord, factoryId: string, epoch: number, write: LeaseWrite): JobChange | null {
    const { settings, clock, random } = this.deps;
    const now = clock.now();
    const holds = job.epoch === epoch && job.lease?.factoryId === factoryId && job.lease.epoch === epoch;
    switch (write.t) {
      case 'accept':
        if (holds && job.stage === 'running') return null; // a repeated accept
        return accept(job, factoryId, epoch, now, settings);
      case 'release':
        assertLeaseHolder(job, factoryId, epoch); // only the holder may let its lease go
        if (job.stage === 'running') return handedBack(job, factoryId, epoch, now, write.reason);
        return release(job, epoch, now, 'declined', write.reason);
      case 'renew':
        return renew(job, factoryId, epoch, now, settings);
      case 'resume':
        // Listed in hello after a coordinator crash, or in a heartbeat, its accept possibly never
        // recorded: the factory says it runs the job, so it keeps it (and its result is taken).
        if (holds && job.stage === 'leased') return accept(job, factoryId, epoch, now, settings);
        return renew(job, factoryId, epoch, now, settings);
      case 'complete':
        if (alreadyRecorded(job, factoryId, epoch)) return null;
        return complete(job, factoryId, epoch, write.report, now, settings.retryBackoff, random());
      case 'preempted':
        return preempted(job, factoryId, epoch, now, write.checkpoint.slice(0, 2_000));
      case 'stop_overdue':
        if (!holds || job.stage !== 'running') return null;
        return write.kind === 'cancel'
          ? expire(job, now, settings.retryBackoff, random(), `did not stop within the ${settings.cancelGraceMs} ms cancel grace`)
          : preempted(job, factoryId, epoch, now, `did not stop within the ${settings.preemptionGraceMs} ms preemption grace`);
      case 'expire':
        if (!holds || (write.lapsedBy !== undefined && job.lease!.expiresAt > write.lapsedBy)) return null;
        return expire(job, now, settings.retryBackoff, random(), write.reason);
      case 'shorten':
        // Back on a new stream here already: its hello decided about the lease.
        if (this.book.factories.has(factoryId)) return null;
        return shortenLease(job, factoryId, epoch, write.until, now, write.knownExpiresAt);
      case 'cost':
        return meterCost(job, factoryId, epoch, write.total, now);
      case 'log':
        throw new Error('log chunks are appended, not mutated');
    }
  }

}

/** Attempt outcomes only a factory's result sets. */
const REPORTED_OUTCOMES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'timed_out', 'cancelled']);

/**
 * A result for an epoch whose outcome this factory already reported and we stored: a resend after a
 * lost ack. Not an attempt that ended otherwise (offer released or expired, cancelled before it
 * started, preempted): acknowledging a result there would tell the factory it was recorded when it
 * was not.
 */
function alreadyRecorded(job: JobRecord, factoryId: string, epoch: number): boolean {
  const attempt = job.attempts.find((a) => a.epoch === epoch);
  return (
    job.epoch === epoch &&
    attempt !== undefined &&
    attempt.factoryId === factoryId &&
    attempt.startedAt !== null &&
    attempt.outcome !== null &&
    REPORTED_OUTCOMES.has(attempt.outcome) &&
    // Where a recorded result can leave a job: ended, retrying, awaiting review, or waiting for children.
    (isFinal(job.stage) || job.stage === 'queued' || job.stage === 'awaiting_review' || job.stage === 'blocked')
  );
}

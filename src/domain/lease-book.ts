/**
 * The lease book: the one owner of what a coordinator knows about the leases of the factories
 * connected to it, and every rule a lease message obeys, with no I/O (the sans-I/O shape of h11:
 * events in, effects out; see STYLE.md). The coordinator feeds it what happened — a factory's
 * message, a claim or an offer, a committed change of a job, a store write's outcome, a reaper
 * tick, a broken stream — and carries out the effects it returns: send a notice to a factory,
 * write to the store, dispatch into a freed slot.
 *
 * The store stays the truth (fencing is its compare-and-set on the job's epoch, rule 2); the book
 * decides what to ask of it. A message about a job is admitted only from the factory the book
 * shows holding that job's lease under exactly that epoch: anything else changes nothing and is
 * answered lease_revoked (rule 7).
 *
 * `apply` changes the book in place rather than returning a copy: one event touches one or a few
 * leases, and copying a fleet's worth of them on every heartbeat would cost O(fleet) per message.
 * It is still deterministic and does no I/O, so the simulation drives it as it is.
 */
import type { AttemptReport } from './lifecycle.js';
import type { JobRecord, LogChunkRecord } from './job.js';

/** A job and the epoch a lease on it is held under. */
/**
 * The most leases a hello or heartbeat may list: its running jobs (at most its slots) and as many
 * finished ones whose results are not acknowledged yet (a job stopped at revocation may still be
 * ending while its slot is refilled). Each listed lease costs the coordinator a lookup and, when it
 * is not the factory's, a revoke in its outgoing queue: an unbounded list is a way to grow that queue.
 */
export function maxListedLeases(slots: number): number {
  return 2 * slots;
}

export interface LeaseRef {
  jobId: string;
  epoch: number;
}

/**
 * Where a lease is: slot taken while the claim is written (claimed), offered and not yet accepted,
 * or running (accepted, or resumed from a hello).
 */
export type LeasePhase = 'claimed' | 'offered' | 'running';

/** A stop the coordinator asked for, and when it ends the lease itself if the factory has not. */
export interface LeaseStop {
  kind: 'cancel' | 'preempt';
  /** The grace ends at this time: the lease is then ended whatever the factory does. */
  until: number;
  /** For a preemption (also once a cancel took it over): the waiting job the slot is freed for. */
  forJobId?: string;
}

export interface HeldLease {
  factoryId: string;
  epoch: number;
  phase: LeasePhase;
  stop: LeaseStop | null;
  /** The job as last written or read for this lease: the first guess for the next write about it. */
  job: JobRecord | undefined;
}

export interface BookFactory {
  /** The stream the factory is connected on; events of an older stream are ignored. */
  sessionId: string;
  slots: number;
  /** Welcome sent: until then, the leases hello is still resuming would look like free slots. */
  ready: boolean;
  draining: boolean;
  /**
   * A running lease of this factory lapsed while its stream stayed open: its heartbeats stopped.
   * It is offered nothing more until a message from it arrives (any message is proof of life).
   */
  silent: boolean;
  /** Ids of the jobs it holds leases on. */
  readonly jobs: Set<string>;
}

/** What the store is asked to do about one lease; the coordinator maps each to a lifecycle call. */
export type LeaseWrite =
  | { t: 'accept' }
  /** A decline: an offer goes back to the queue; a lease already running is given back cleanly. */
  | { t: 'release'; reason: string }
  | { t: 'renew' }
  /**
   * A lease its holder says it runs (listed in hello, or a heartbeat naming an offer): renewed, or
   * accepted if the accept was never recorded.
   */
  | { t: 'resume' }
  /**
   * The attempt's outcome. An offer the store shows unaccepted is accepted first: its holder ran
   * it, and its accept was lost (or not yet recorded when a coordinator crashed).
   */
  | { t: 'complete'; report: AttemptReport }
  | { t: 'preempted'; checkpoint: string }
  /** The cancel or preemption grace ended without the factory's answer: the coordinator ends the lease. */
  | { t: 'stop_overdue'; kind: LeaseStop['kind'] }
  /**
   * The lease ends: it lapsed (`lapsedBy`: only if it still runs out by then, as the reaper found
   * it), or the factory came back without it, or the store refused the factory's message about it.
   */
  | { t: 'expire'; reason: string; lapsedBy?: number }
  /** Output of the attempt, stored under the lease's epoch. */
  | { t: 'log'; chunk: LogChunkRecord }
  /** The running attempt's cost so far (lifecycle.ts meterCost). */
  | { t: 'cost'; total: number }
  /**
   * The factory's stream broke: the lease lapses after the reconnect grace, at `until`, unless the
   * store shows it renewed past `knownExpiresAt` (the expiry last written here) by a newer stream.
   */
  | { t: 'shorten'; until: number; knownExpiresAt: number };

/** What a factory is told. The api layer maps each to its protobuf message. */
export type FactoryNotice =
  | { t: 'offer'; job: JobRecord }
  /** `refusal`: set when it answers a factory's message the book or the store refused, and why (for metrics). */
  | { t: 'revoke'; jobId: string; epoch: number; reason: string; refusal?: string }
  | { t: 'cancel'; jobId: string; epoch: number; graceMs: number; reason: string }
  | { t: 'preempt'; jobId: string; epoch: number; graceMs: number; reason: string }
  | { t: 'result_ack'; jobId: string; epoch: number };

export type LeaseEffect =
  | { t: 'send'; factoryId: string; notice: FactoryNotice }
  | { t: 'write'; factoryId: string; jobId: string; epoch: number; write: LeaseWrite; known: JobRecord | undefined }
  /** A slot of this factory came free (or a job went back to the queue): time for a dispatch pass. */
  | { t: 'freed'; factoryId: string }
  /** A draining factory holds nothing more: tell it goodbye. */
  | { t: 'drained'; factoryId: string };

export type LeaseEvent =
  | { t: 'hello'; factoryId: string; sessionId: string; slots: number; resumed: readonly LeaseRef[] }
  /** Welcome went out: the factory's free slots count from now. */
  | { t: 'ready'; factoryId: string; sessionId: string }
  | { t: 'drain'; factoryId: string }
  | { t: 'broke'; factoryId: string; sessionId: string; until: number }
  /** The store says the factory holds this lease but its hello did not list it: it lost the job. */
  | { t: 'lost'; factoryId: string; jobId: string; epoch: number }
  /** A slot is taken for a job whose claim is being written (see `offer`, `claim_lost`). */
  | { t: 'claim'; job: JobRecord }
  | { t: 'claim_lost'; jobId: string; epoch: number }
  /** The claim is stored: the job is offered. */
  | { t: 'offer'; job: JobRecord }
  | { t: 'accept'; factoryId: string; jobId: string; epoch: number }
  | { t: 'decline'; factoryId: string; jobId: string; epoch: number; reason: string }
  | { t: 'heartbeat'; factoryId: string; running: readonly LeaseRef[] }
  | { t: 'log'; factoryId: string; jobId: string; epoch: number; chunk: LogChunkRecord }
  | { t: 'cost'; factoryId: string; jobId: string; epoch: number; total: number }
  | { t: 'result'; factoryId: string; jobId: string; epoch: number; report: AttemptReport }
  | { t: 'preemption_ack'; factoryId: string; jobId: string; epoch: number; checkpoint: string }
  /** Ask the holder of a running job to stop it for a more urgent one. */
  | { t: 'preempt'; jobId: string; epoch: number; forJobId: string; reason: string; now: number }
  /** A committed change of a job, by whoever made it (the feed). */
  | { t: 'changed'; job: JobRecord; actor: string; kind: string; message: string; now: number }
  /** A write the book asked for was stored; `job` is the record as written. */
  | { t: 'written'; factoryId: string; jobId: string; epoch: number; write: LeaseWrite['t']; job: JobRecord }
  /** The store refused a write the book asked for (the lease is not what the book thought). */
  | { t: 'refused'; factoryId: string; jobId: string; epoch: number; write: LeaseWrite['t']; code: string; reason: string }
  /** Periodic: stops whose grace ended, and the leases the store lists as lapsed. */
  | { t: 'tick'; now: number; lapsed: readonly { jobId: string; epoch: number; factoryId: string }[] };

/** The timings the book's rules use. */
export interface LeaseBookTimings {
  cancelGraceMs: number;
  preemptionGraceMs: number;
}

/** Messages that name a job and are admitted only from its holder, and from which phases. */
const ADMITTED: Record<'accept' | 'decline' | 'heartbeat' | 'log' | 'cost' | 'result' | 'preemption_ack', readonly LeasePhase[]> = {
  accept: ['offered', 'running'],
  heartbeat: ['offered', 'running'],
  decline: ['offered', 'running'],
  log: ['offered', 'running'],
  cost: ['offered', 'running'],
  result: ['offered', 'running'],
  preemption_ack: ['running'],
};

const NOT_HOLDER = 'this factory does not hold that lease';

export class LeaseBook {
  readonly leases = new Map<string, HeldLease>();
  readonly factories = new Map<string, BookFactory>();
  /** Factories that said hello here since this coordinator started (see `holdLapsedUntil`). */
  private readonly seen = new Set<string>();

  /**
   * `holdLapsedUntil`: until then a lapsed lease of a factory that has not said hello here since
   * this coordinator started is left alone. A coordinator that just (re)started gives its
   * factories time to come back and list what they still run or have results for, instead of
   * taking back jobs whose factory is only waiting out its reconnect back-off. (A factory seen
   * here and gone again is not waited for beyond its own reconnect grace.)
   */
  constructor(
    private readonly timings: LeaseBookTimings,
    private readonly holdLapsedUntil: number,
  ) {}

  /** Slots the dispatcher may fill: none while not ready, draining or silent. */
  freeSlots(factoryId: string): number {
    const factory = this.factories.get(factoryId);
    if (!factory || !factory.ready || factory.draining || factory.silent) return 0;
    return factory.slots - factory.jobs.size;
  }

  /** The lease the book shows on `jobId`, if any. */
  lease(jobId: string): HeldLease | undefined {
    return this.leases.get(jobId);
  }

  /** Whether `jobId` is being stopped to make room for `waitingJobId`. */
  isPreemptingFor(waitingJobId: string): boolean {
    for (const lease of this.leases.values()) if (lease.stop?.forJobId === waitingJobId) return true;
    return false;
  }

  apply(event: LeaseEvent): LeaseEffect[] {
    const out: LeaseEffect[] = [];
    if ('factoryId' in event && event.t !== 'broke' && event.t !== 'lost' && event.t !== 'written' && event.t !== 'refused') {
      // Any message from a factory is proof of life.
      const factory = this.factories.get(event.factoryId);
      if (factory) factory.silent = false;
    }
    switch (event.t) {
      case 'hello':
        this.onHello(event, out);
        break;
      case 'ready': {
        const factory = this.factories.get(event.factoryId);
        if (factory?.sessionId === event.sessionId) {
          factory.ready = true;
          out.push({ t: 'freed', factoryId: event.factoryId });
        }
        break;
      }
      case 'drain': {
        const factory = this.factories.get(event.factoryId);
        if (!factory) break;
        factory.draining = true;
        // Offers not yet accepted go back to the queue at once.
        for (const jobId of factory.jobs) {
          const lease = this.leases.get(jobId)!;
          if (lease.phase === 'offered') out.push(this.write(lease, jobId, { t: 'release', reason: 'factory is draining' }));
        }
        this.drainedCheck(event.factoryId, out);
        break;
      }
      case 'broke':
        this.onBroke(event, out);
        break;
      case 'lost': {
        const lease = this.leases.get(event.jobId);
        if (lease && (lease.factoryId !== event.factoryId || lease.epoch !== event.epoch)) break;
        out.push({ t: 'write', factoryId: event.factoryId, jobId: event.jobId, epoch: event.epoch, write: { t: 'expire', reason: 'factory reconnected without the job' }, known: lease?.job });
        break;
      }
      case 'claim':
      case 'offer':
        this.onOffer(event.t, event.job, out);
        break;
      case 'claim_lost': {
        const lease = this.leases.get(event.jobId);
        if (lease?.epoch === event.epoch && lease.phase === 'claimed') this.drop(event.jobId, out);
        break;
      }
      case 'accept': {
        const lease = this.admit(event, 'accept', out);
        // A repeated accept of a running lease changes nothing.
        if (lease?.phase === 'offered') out.push(this.write(lease, event.jobId, { t: 'accept' }));
        break;
      }
      case 'decline': {
        const lease = this.admit(event, 'decline', out);
        if (lease) out.push(this.write(lease, event.jobId, { t: 'release', reason: event.reason || 'declined by the factory' }));
        break;
      }
      case 'heartbeat':
        for (const ref of event.running) {
          const lease = this.admit({ factoryId: event.factoryId, ...ref }, 'heartbeat', out);
          // An offered job in a heartbeat runs: its accept was lost, and it is taken as accepted.
          if (lease) out.push(this.write(lease, ref.jobId, lease.phase === 'running' ? { t: 'renew' } : { t: 'resume' }));
        }
        break;
      case 'log': {
        const lease = this.admit(event, 'log', out);
        if (lease) out.push(this.write(lease, event.jobId, { t: 'log', chunk: event.chunk }));
        break;
      }
      case 'cost': {
        const lease = this.admit(event, 'cost', out);
        if (lease) out.push(this.write(lease, event.jobId, { t: 'cost', total: event.total }));
        break;
      }
      case 'result': {
        const lease = this.admit(event, 'result', out, true);
        if (lease) out.push(this.write(lease, event.jobId, { t: 'complete', report: event.report }));
        break;
      }
      case 'preemption_ack': {
        const lease = this.admit(event, 'preemption_ack', out);
        if (lease) out.push(this.write(lease, event.jobId, { t: 'preempted', checkpoint: event.checkpoint }));
        break;
      }
      case 'preempt': {
        const lease = this.leases.get(event.jobId);
        if (!lease || lease.epoch !== event.epoch || lease.phase !== 'running' || lease.stop) break;
        lease.stop = { kind: 'preempt', until: event.now + this.timings.preemptionGraceMs, forJobId: event.forJobId };
        out.push(this.send(lease.factoryId, { t: 'preempt', jobId: event.jobId, epoch: event.epoch, graceMs: this.timings.preemptionGraceMs, reason: event.reason }));
        break;
      }
      case 'changed':
        this.onChanged(event, out);
        break;
      case 'written':
        this.onWritten(event, out);
        break;
      case 'refused':
        this.onRefused(event, out);
        break;
      case 'tick':
        this.onTick(event, out);
        break;
    }
    return out;
  }

  private onHello(event: Extract<LeaseEvent, { t: 'hello' }>, out: LeaseEffect[]): void {
    const previous = this.factories.get(event.factoryId);
    const jobs = previous?.jobs ?? new Set<string>();
    this.factories.set(event.factoryId, { sessionId: event.sessionId, slots: event.slots, ready: false, draining: false, silent: false, jobs });
    this.seen.add(event.factoryId);
    const listed = new Set(event.resumed.map((r) => r.jobId));
    // Leases an earlier stream of this factory held that hello does not list: it lost those jobs.
    for (const jobId of [...jobs]) {
      if (listed.has(jobId)) continue;
      const lease = this.leases.get(jobId)!;
      if (lease.phase === 'claimed') continue; // its offer has not gone out yet
      out.push(this.write(lease, jobId, { t: 'expire', reason: 'factory reconnected without the job' }));
      this.drop(jobId, out);
    }
    for (const ref of event.resumed) {
      const lease = this.leases.get(ref.jobId);
      if (lease && (lease.epoch > ref.epoch || (lease.epoch === ref.epoch && lease.factoryId !== event.factoryId))) {
        out.push(this.send(event.factoryId, { t: 'revoke', jobId: ref.jobId, epoch: ref.epoch, reason: 'the job is leased under a newer epoch' }));
        continue;
      }
      if (lease && lease.epoch < ref.epoch) {
        // The book is behind (the store's change did not reach it yet): the older lease is over.
        out.push(this.send(lease.factoryId, { t: 'revoke', jobId: ref.jobId, epoch: lease.epoch, reason: 'lease ended: superseded by a newer epoch' }));
        this.drop(ref.jobId, out);
      }
      // Not known here (a restarted coordinator, another replica's stream), or known under this
      // epoch: the store decides whether the factory keeps it.
      const held = lease?.epoch === ref.epoch ? lease : this.hold(event.factoryId, ref.jobId, ref.epoch, 'running', undefined);
      out.push(this.write(held, ref.jobId, { t: 'resume' }));
    }
  }

  private onBroke(event: Extract<LeaseEvent, { t: 'broke' }>, out: LeaseEffect[]): void {
    const factory = this.factories.get(event.factoryId);
    if (factory?.sessionId !== event.sessionId) return; // a newer stream of the factory took over
    for (const jobId of [...factory.jobs]) {
      const lease = this.leases.get(jobId)!;
      // A claimed slot's offer still goes out (to nobody): the store's offer deadline ends it.
      if (lease.phase !== 'claimed') out.push(this.write(lease, jobId, { t: 'shorten', until: event.until, knownExpiresAt: lease.job?.lease?.expiresAt ?? Infinity }));
      this.drop(jobId, out, false);
    }
    this.factories.delete(event.factoryId);
  }

  private onOffer(kind: 'claim' | 'offer', job: JobRecord, out: LeaseEffect[]): void {
    const lease = job.lease!;
    const existing = this.leases.get(job.id);
    if (existing && existing.epoch > lease.epoch) return;
    if (existing && (existing.factoryId !== lease.factoryId || existing.epoch !== lease.epoch)) {
      // A newer lease supersedes the one this coordinator still shows.
      out.push(this.send(existing.factoryId, { t: 'revoke', jobId: job.id, epoch: existing.epoch, reason: 'lease ended: offered again under a newer epoch' }));
      this.drop(job.id, out);
    }
    if (!this.factories.has(lease.factoryId)) {
      out.push({ t: 'freed', factoryId: lease.factoryId }); // gone meanwhile: the offer lapses in the store
      return;
    }
    const held = this.leases.get(job.id) ?? this.hold(lease.factoryId, job.id, lease.epoch, 'claimed', job);
    held.job = job;
    if (kind === 'offer' && this.factories.get(lease.factoryId)!.silent) {
      // Claimed before its factory went silent, stored after: it is offered nothing until heard
      // from, so the claim is given up and the job goes to another factory at once.
      out.push(this.write(held, job.id, { t: 'expire', reason: `${lease.factoryId} went silent before the offer went out` }));
      return;
    }
    if (kind === 'offer') {
      held.phase = 'offered';
      out.push(this.send(lease.factoryId, { t: 'offer', job }));
    }
  }

  /**
   * The lease a job-scoped message names, if the sending factory holds it under exactly that epoch
   * in a phase where the message makes sense; otherwise the factory is told lease_revoked and
   * nothing changes. `resend`: a result about a job the book shows no lease on may be a resend
   * after a lost ack: the store decides (it acknowledges an outcome it recorded, and refuses
   * anything else, as it is fenced), so the returned lease is a detached one, not in the book.
   */
  private admit(ref: { factoryId: string; jobId: string; epoch: number }, kind: keyof typeof ADMITTED, out: LeaseEffect[], resend = false): HeldLease | null {
    const lease = this.leases.get(ref.jobId);
    if (lease && lease.factoryId === ref.factoryId && lease.epoch === ref.epoch && ADMITTED[kind].includes(lease.phase)) return lease;
    if (resend && !lease) return { factoryId: ref.factoryId, epoch: ref.epoch, phase: 'running', stop: null, job: undefined };
    const refusal = !lease || lease.epoch !== ref.epoch ? 'stale_epoch' : lease.factoryId !== ref.factoryId ? 'not_holder' : 'failed_precondition';
    out.push(this.send(ref.factoryId, { t: 'revoke', jobId: ref.jobId, epoch: ref.epoch, reason: NOT_HOLDER, refusal }));
    return null;
  }

  private onChanged(event: Extract<LeaseEvent, { t: 'changed' }>, out: LeaseEffect[]): void {
    const { job } = event;
    const lease = this.leases.get(job.id);
    // Old news: an update from before the lease the book shows was granted must not end it.
    if (!lease || lease.epoch > job.epoch) return;
    if (job.lease?.factoryId === lease.factoryId && job.lease.epoch === lease.epoch) {
      if (lease.job === undefined || lease.job.revision < job.revision) lease.job = job;
      this.noticeCancel(lease, job, event.now, out);
      return;
    }
    // The lease ended. Its holder is told unless it ended it itself.
    if (event.actor !== `factory:${lease.factoryId}`) {
      out.push(this.send(lease.factoryId, { t: 'revoke', jobId: job.id, epoch: lease.epoch, reason: `lease ended: ${event.kind}${event.message ? ` (${event.message})` : ''}` }));
    }
    this.drop(job.id, out);
  }

  /**
   * A cancel (by an operator, another replica, the budget) reaches the holder of a running job
   * once, whichever way the book learns of it; the grace it gets is enforced at the next tick after
   * it ends. A cancel during a preemption's grace does not extend that grace: the job had to stop
   * by then anyway, and the cancel only changes what its end records (cancelled, not requeued).
   */
  private noticeCancel(lease: HeldLease, job: JobRecord, now: number, out: LeaseEffect[]): void {
    if (job.cancelRequestedAt === null || lease.phase !== 'running' || lease.stop?.kind === 'cancel') return;
    const until = Math.min(lease.stop?.until ?? Infinity, now + this.timings.cancelGraceMs);
    const forJobId = lease.stop?.forJobId;
    lease.stop = { kind: 'cancel', until, ...(forJobId === undefined ? {} : { forJobId }) };
    out.push(this.send(lease.factoryId, { t: 'cancel', jobId: job.id, epoch: lease.epoch, graceMs: Math.max(0, until - now), reason: job.budgetStopReason ?? job.reason }));
  }

  private onWritten(event: Extract<LeaseEvent, { t: 'written' }>, out: LeaseEffect[]): void {
    const { job } = event;
    const lease = this.leases.get(event.jobId);
    const ours = lease !== undefined && lease.factoryId === event.factoryId && lease.epoch === event.epoch;
    if (event.write === 'complete') out.push(this.send(event.factoryId, { t: 'result_ack', jobId: event.jobId, epoch: event.epoch }));
    if (!ours) return;
    const stillHeld = job.lease?.factoryId === event.factoryId && job.lease.epoch === event.epoch && job.epoch === event.epoch;
    if (!stillHeld) {
      // Ended by this write (result, decline, preemption, overdue stop, expiry): the factory knows,
      // except when the coordinator ended it (or the store shows it ended otherwise); of a claim
      // never offered it knows nothing.
      if (event.write !== 'complete' && event.write !== 'release' && event.write !== 'preempted' && lease.phase !== 'claimed') {
        out.push(this.send(event.factoryId, { t: 'revoke', jobId: event.jobId, epoch: event.epoch, reason: `lease ended: ${job.reason || job.stage}` }));
      }
      this.drop(event.jobId, out);
      return;
    }
    lease.job = job;
    if (job.stage === 'running') lease.phase = 'running';
    this.noticeCancel(lease, job, job.updatedAt, out);
  }

  private onRefused(event: Extract<LeaseEvent, { t: 'refused' }>, out: LeaseEffect[]): void {
    const lease = this.leases.get(event.jobId);
    const ours = lease !== undefined && lease.factoryId === event.factoryId && lease.epoch === event.epoch;
    if (event.write === 'shorten' || event.write === 'expire' || event.write === 'stop_overdue') {
      if (ours) this.drop(event.jobId, out);
      if (event.write === 'expire' || event.write === 'stop_overdue') {
        out.push(this.send(event.factoryId, { t: 'revoke', jobId: event.jobId, epoch: event.epoch, reason: event.reason }));
      }
      return;
    }
    // The store does not show the lease the book did: the factory is told it is gone, and if the
    // store still shows it holding that epoch (it broke the protocol) the lease is ended now, so
    // the job does not sit idle until its TTL.
    out.push(this.send(event.factoryId, { t: 'revoke', jobId: event.jobId, epoch: event.epoch, reason: event.reason, refusal: event.code }));
    out.push({ t: 'write', factoryId: event.factoryId, jobId: event.jobId, epoch: event.epoch, write: { t: 'expire', reason: `lease ended after a refused message: ${event.reason}` }, known: undefined });
    if (ours) this.drop(event.jobId, out);
  }

  private onTick(event: Extract<LeaseEvent, { t: 'tick' }>, out: LeaseEffect[]): void {
    const overdue = new Set<string>();
    for (const [jobId, lease] of this.leases) {
      if (lease.stop && lease.stop.until <= event.now) {
        overdue.add(jobId);
        out.push(this.write(lease, jobId, { t: 'stop_overdue', kind: lease.stop.kind }));
      }
    }
    const starting = event.now < this.holdLapsedUntil;
    for (const lapsed of event.lapsed) {
      const factory = this.factories.get(lapsed.factoryId);
      // Just started: a factory not back yet may still come and list the job (see the constructor).
      if (starting && !this.seen.has(lapsed.factoryId)) continue;
      if (overdue.has(lapsed.jobId)) continue; // ended by its overdue stop above
      const lease = this.leases.get(lapsed.jobId);
      const held = lease?.factoryId === lapsed.factoryId && lease.epoch === lapsed.epoch;
      // A running lease lapses only when heartbeats stopped; an offer may lapse on a live factory.
      if (factory && held && lease.phase === 'running') factory.silent = true;
      const write: LeaseWrite = { t: 'expire', reason: `no heartbeat from ${lapsed.factoryId} before the lease expired`, lapsedBy: event.now };
      out.push({ t: 'write', factoryId: lapsed.factoryId, jobId: lapsed.jobId, epoch: lapsed.epoch, write, known: held ? lease.job : undefined });
    }
  }

  private hold(factoryId: string, jobId: string, epoch: number, phase: LeasePhase, job: JobRecord | undefined): HeldLease {
    const lease: HeldLease = { factoryId, epoch, phase, stop: null, job };
    this.leases.set(jobId, lease);
    this.factories.get(factoryId)?.jobs.add(jobId);
    return lease;
  }

  /** Forgets a lease; its factory's slot is free (`freed`), and a draining factory may be done. */
  private drop(jobId: string, out: LeaseEffect[], notify = true): void {
    const lease = this.leases.get(jobId);
    if (!lease) return;
    this.leases.delete(jobId);
    const factory = this.factories.get(lease.factoryId);
    factory?.jobs.delete(jobId);
    if (!notify) return;
    out.push({ t: 'freed', factoryId: lease.factoryId });
    this.drainedCheck(lease.factoryId, out);
  }

  private drainedCheck(factoryId: string, out: LeaseEffect[]): void {
    const factory = this.factories.get(factoryId);
    if (factory?.draining && factory.jobs.size === 0) out.push({ t: 'drained', factoryId });
  }

  private write(lease: HeldLease, jobId: string, write: LeaseWrite): LeaseEffect {
    return { t: 'write', factoryId: lease.factoryId, jobId, epoch: lease.epoch, write, known: lease.job };
  }

  private send(factoryId: string, notice: FactoryNotice): LeaseEffect {
    return { t: 'send', factoryId, notice };
  }
}

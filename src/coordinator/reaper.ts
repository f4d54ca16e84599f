/**
 * The reaper: hands the lease book the leases the store lists as lapsed (and, with them, the time
 * by which overdue stops are judged), on the fleet's periodic tick and early for the soonest lease a
 * broken stream left to lapse.
 */
import type { Logger } from '../logging.js';
import type { JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import type { Leases, ReaperRaces } from './leases.js';

/** Lapsed leases handed to the lease book per pass. */
const REAP_BATCH = 200;

export interface ReaperDeps {
  store: Pick<JobStore, 'listExpiredLeases'>;
  leases: Pick<Leases, 'apply'>;
  clock: Clock;
  log: Logger;
  /** Counted by the lease owner as it ends (or races for) each lease. */
  races: ReaperRaces;
  /** An early pass ended leases: their jobs (lapsed offers at least) are runnable at once. */
  onReaped: () => void;
}

export class Reaper {
  private started = false;
  /** One early pass, for the soonest lease a broken stream left to lapse (see wakeAt). */
  private wake: { at: number; timer: NodeJS.Timeout } | null = null;

  constructor(private readonly deps: ReaperDeps) {}

  /** Early passes are timed from now on (until then, as in the simulation, only ticks reap). */
  start(): void {
    this.started = true;
  }

  stop(): void {
    this.started = false;
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = null;
  }

  /** Runs a pass at `at` rather than at the next tick; one timer, for the soonest such moment. */
  wakeAt(at: number): void {
    if (!this.started) return;
    if (this.wake && this.wake.at <= at) return; // a later deadline is met by the next regular tick
    if (this.wake) clearTimeout(this.wake.timer);
    // +1: a timer may fire a millisecond early, before the lease counts as expired.
    const timer = setTimeout(() => {
      this.wake = null;
      this.reapOnce().then(
        (reaped) => {
          if (reaped > 0) this.deps.onReaped();
        },
        (err: unknown) => this.deps.log.error({ err }, 'reaper pass failed'),
      );
    }, Math.max(0, at - this.deps.clock.now()) + 1);
    timer.unref();
    this.wake = { at, timer };
  }

  /**
   * Hands the lease book the leases the store lists as lapsed (and the stops whose grace ended):
   * it ends them, back to the queue (with back-off) or to dead. Returns how many it ended.
   */
  async reapOnce(): Promise<number> {
    const { store, leases, clock, log, races } = this.deps;
    const now = clock.now();
    const lapsed = (await store.listExpiredLeases(now, REAP_BATCH)).flatMap((job) => (job.lease ? [{ jobId: job.id, epoch: job.epoch, factoryId: job.lease.factoryId }] : []));
    const [reaped, raced, retries] = [races.reaped, races.reaperRaced, races.reaperCasRetries];
    await leases.apply({ t: 'tick', now, lapsed });
    const newlyRaced = races.reaperRaced - raced;
    if (newlyRaced > 0 || races.reaperCasRetries > retries) {
      log.info({ raced: newlyRaced, casRetries: races.reaperCasRetries - retries, totalRaced: races.reaperRaced }, 'reaper raced other writers (fenced by compare-and-set)');
    }
    return races.reaped - reaped;
  }
}

/**
 * The connected fleet, put together: the registry of factory streams (Sessions), the lease owner
 * (Leases), the dispatch loop, the reaper, the periodic tick that drives them and the feed watcher
 * that tells them what changed. Each part gets only the narrow interfaces it uses; what any of them
 * does to a lease goes through the lease owner.
 */
import { DomainError } from '../domain/errors.js';
import { stopForBudget } from '../domain/lifecycle.js';
import type { Logger } from '../logging.js';
import type { JobRecord } from '../domain/job.js';
import type { JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import { NO_FLEET_OBSERVER, type FleetObserver } from './fleet-observer.js';
import { noteUnplaceable, type DispatchContext } from './dispatcher.js';
import { DispatchLoop } from './dispatch-loop.js';
import { explainJob, type JobExplanation } from './explain.js';
import { Reaper } from './reaper.js';
import { Scheduling } from './scheduling.js';
import { Budgets } from './budgets.js';
import { DecisionLog } from './decision-log.js';
import type { DecisionStore } from '../store/decision-store.js';
import { MemoryDecisionStore } from '../store/memory/memory-decision-store.js';
import { DispatchRates } from './dispatch-rates.js';
import { MemorySettingsStore } from '../store/memory/memory-settings-store.js';
import { MemoryLeaseKeyStore } from '../store/memory/memory-lease-key-store.js';
import { LeaseKeys } from './lease-keys.js';
import type { FactoryLink, SessionHost, SessionRegistry } from './factory-link.js';
import { Leases, type ReaperRaces } from './leases.js';
import { Sessions } from './sessions.js';
import type { JobFeed, JobUpdate } from './job-feed.js';
import { JobWrites } from './job-writes.js';
import type { FleetSettings } from './lease-settings.js';
import { wholeQueue, type RunnableSource } from './runnable-source.js';

/** Queued jobs checked per tick for "no connected factory can run this". */
const UNPLACEABLE_PAGE = 100;

/**
 * Settings for running as one of several replicas over a shared store (Cosmos). Optional, so a
 * plain FleetSettings (one coordinator, SQLite) behaves exactly as before.
 */
export interface ScaleOutSettings {
  /**
   * Other coordinators write to the same store: poll for runnable jobs (they cannot publish to
   * our feed), every SHARED_POLL.minMs after finding work, backing off to SHARED_POLL.maxMs.
   */
  sharedStore?: boolean;
  /**
   * Say goodbye (MAX_AGE) to a factory whose stream is this old (less up to 10% jitter), so
   * long-lived streams rebalance across replicas behind a load balancer; 0 or unset: never.
   */
  maxStreamAgeMs?: number;
}

export { SHARED_POLL } from './dispatch-loop.js';

/** The reaper's work and races with other writers (replicas, factories), for logs, tests and the benchmark. */
export interface RaceCounts extends ReaperRaces {
  /** Offers lost because the job was taken (by another replica) between listing and claiming. */
  dispatchLost: number;
}

export interface FleetDeps {
  store: JobStore;
  feed: JobFeed;
  clock: Clock;
  settings: FleetSettings & ScaleOutSettings;
  log: Logger;
  /** A number in [0, 1): jitter for retry back-off. Seeded in simulations. */
  random?: () => number;
  /** Runs a dispatch pass soon; setImmediate by default, the simulation's queue in tests. */
  schedule?: (run: () => void) => void;
  /** Told about stream traffic and refusals (metrics). */
  observer?: FleetObserver;
  /** Weights, fair share and affinity; defaults over in-memory product settings. */
  scheduling?: Scheduling;
  /** Signs lease tokens; defaults to a key ring in memory (one coordinator, tests). */
  leaseKeys?: LeaseKeys;
  /** Where placement decisions are kept for evaluating weights; defaults to memory. */
  decisionStore?: DecisionStore;
  /** The queued jobs dispatch looks at; the whole queue by default (runnable-source.ts). */
  runnable?: RunnableSource;
}

export class Fleet implements SessionHost, SessionRegistry {
  /** How the fleet's parts change a job (compare-and-set, then publish). */
  private readonly writes: JobWrites;
  readonly store: JobStore;
  readonly feed: JobFeed;
  readonly clock: Clock;
  readonly settings: FleetSettings & ScaleOutSettings;
  readonly random: () => number;
  readonly observer: FleetObserver;
  readonly scheduling: Scheduling;
  /** The one owner of lease state: the book of every lease this coordinator's factories hold. */
  readonly leases: Leases;
  readonly budgets: Budgets;
  /** Placement decisions and their outcomes, for evaluating scoring weights. */
  readonly decisions: DecisionLog;
  /** Per-product dispatch rate limits, over buckets in the settings store. */
  readonly rates: DispatchRates;
  /** When dispatch passes run; its submitClaimer is what Jobs places new jobs with. */
  readonly dispatch: DispatchLoop;
  /** The open factory streams. */
  private readonly registry: Sessions;
  readonly leaseKeys: LeaseKeys;
  private readonly reaper: Reaper;
  /** What a dispatch pass (and an explanation of one) works with. */
  private readonly placement: DispatchContext;
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  readonly races: RaceCounts = { reaped: 0, reaperRaced: 0, reaperCasRetries: 0, dispatchLost: 0 };

  constructor(deps: FleetDeps) {
    this.store = deps.store;
    this.feed = deps.feed;
    this.clock = deps.clock;
    this.settings = deps.settings;
    this.log = deps.log;
    this.random = deps.random ?? Math.random;
    this.observer = deps.observer ?? NO_FLEET_OBSERVER;
    this.scheduling = deps.scheduling ?? new Scheduling(new MemorySettingsStore());
    this.budgets = new Budgets(deps.store, this.scheduling, deps.clock);
    this.decisions = new DecisionLog(deps.decisionStore ?? new MemoryDecisionStore(), deps.log);
    this.attach(this.decisions);
    this.rates = new DispatchRates(this.scheduling, this.scheduling.store);
    this.leaseKeys = deps.leaseKeys ?? new LeaseKeys(new MemoryLeaseKeyStore(), deps.clock);
    this.writes = new JobWrites(deps.store, deps.feed);
    this.leases = new Leases({
      writes: this.writes,
      store: deps.store,
      feed: deps.feed,
      clock: deps.clock,
      settings: deps.settings,
      random: this.random,
      log: deps.log,
      observer: this.observer,
      races: this.races,
      onFreed: () => this.requestDispatch(),
      onResumed: (job) => this.scheduling.track(job), // renewals publish no event: a restarted coordinator learns its leases here
      onMetered: (job) => void this.metered(job).catch((err: unknown) => this.log.warn({ err, jobId: job.id }, 'stopping jobs for an exhausted budget failed')),
    });
    this.registry = new Sessions({ clock: deps.clock, settings: deps.settings, random: this.random, log: deps.log, leases: this.leases });
    const registry = this.registry;
    this.placement = {
      sessions: () => registry.list(),
      sessionsWithFreeSlots: (limit) => registry.withFreeSlots(limit),
      writes: this.writes,
      store: deps.store,
      runnable: deps.runnable ?? wholeQueue(deps.store),
      clock: deps.clock,
      settings: deps.settings,
      budgets: this.budgets,
      rates: this.rates,
      scheduling: this.scheduling,
      leases: this.leases,
      decisions: this.decisions,
    };
    this.dispatch = new DispatchLoop(this.placement, {
      sharedStore: deps.settings.sharedStore === true,
      schedule: deps.schedule ?? ((run) => setImmediate(run)),
      log: deps.log,
      races: this.races,
    });
    this.reaper = new Reaper({ store: deps.store, leases: this.leases, clock: deps.clock, log: deps.log, races: this.races, onReaped: () => this.requestDispatch() });
  }

  /** Components with their own periodic work (workflows), started and stopped with the fleet. */
  private readonly companions: { start(): void; stop(): void }[] = [];

  attach(companion: { start(): void; stop(): void }): void {
    this.companions.push(companion);
  }

  /** Starts the periodic work (reaper, silent-session sweep, back-off wake-ups) and the feed watcher. */
  start(): void {
    void this.watchFeed();
    for (const companion of this.companions) companion.start();
    this.timer = setInterval(() => void this.tick(), this.settings.reaperIntervalMs);
    this.timer.unref();
    this.reaper.start();
    this.dispatch.start();
  }

  /** Says goodbye to every factory; their leases stay in the store for them to resume elsewhere. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.reaper.stop();
    this.dispatch.stop();
    this.stopping.abort();
    for (const companion of this.companions) companion.stop();
    this.registry.goodbyeAll();
  }

  /** An id for a new stream, unique in this coordinator. */
  newSessionId(): string {
    return this.registry.newSessionId();
  }

  /** A new stream, before its hello. */
  open(session: FactoryLink): void {
    this.registry.open(session);
  }

  /** The sessions that said hello. */
  sessions(): FactoryLink[] {
    return this.registry.list();
  }

  register(session: FactoryLink): void {
    this.registry.register(session);
  }

  unregister(session: FactoryLink): void {
    this.registry.unregister(session);
  }

  /** Runs a reaper pass at `at` rather than at the next tick (the leases of a broken stream lapse then). */
  wakeReaperAt(at: number): void {
    this.reaper.wakeAt(at);
  }

  /** An operator drains a factory: no new offers; it is told goodbye once its jobs are done. */
  drain(factoryId: string, reason: string): void {
    this.registry.drain(factoryId, reason);
  }

  /** Asks for a dispatch pass; passes never overlap, and requests during one cause one more. */
  requestDispatch(): void {
    this.dispatch.request();
  }

  /** One round of periodic work; the simulation calls it directly. */
  async tick(): Promise<void> {
    this.dispatch.noteQueued(); // back-offs that ended, budgets that freed up: only a listing finds them
    this.registry.sweep();
    await this.reapOnce().catch((err: unknown) => this.log.error({ err }, 'reaper pass failed'));
    await this.budgets.refreshIfDue().catch((err: unknown) => this.log.error({ err }, 'budget refresh failed'));
    await this.stopExhausted(this.runningProducts()).catch((err: unknown) => this.log.error({ err }, 'cost budget check failed'));
    await this.stopBudgetOverruns().catch((err: unknown) => this.log.error({ err }, 'wall-clock budget check failed'));
    this.requestDispatch(); // jobs whose back-off just ended, products whose budget freed up
    await noteUnplaceable(this.placement, UNPLACEABLE_PAGE).catch((err: unknown) => this.log.error({ err }, 'unplaceable check failed'));
  }

  /** One reaper pass now (see Reaper.reapOnce); returns how many leases it ended. */
  reapOnce(): Promise<number> {
    return this.reaper.reapOnce();
  }

  /** The products of the jobs running on this coordinator's factories. */
  private runningProducts(): string[] {
    const products: string[] = [];
    for (const [jobId, lease] of this.leases.book.leases) {
      const productId = lease.phase === 'running' ? this.scheduling.activeProduct(jobId) : undefined;
      if (productId !== undefined) products.push(productId);
    }
    return products;
  }

  /**
   * Stops running jobs of this coordinator's factories that used up their product's wall-clock
   * budget: the 'cancel_requested' event this writes is what sends the factory its cancel.
   */
  async stopBudgetOverruns(): Promise<number> {
    const running = [...this.leases.book.leases].filter(([, lease]) => lease.phase === 'running').map(([jobId]) => jobId);
    let stopped = 0;
    for (const { job, reason } of await this.budgets.overruns(running)) {
      if (await this.stopForBudget(job.id, job.epoch, reason)) stopped++;
    }
    return stopped;
  }

  /**
   * A running job's cost moved: its product's spend counts it now, and a product whose budget says
   * so has its running jobs here stopped once its cost limit is reached.
   */
  private async metered(job: JobRecord): Promise<void> {
    this.budgets.noteSpend(job);
    await this.stopExhausted([job.productId]);
  }

  /**
   * Stops this coordinator's running jobs of the products whose cost limit is reached and whose
   * budget says running jobs stop then. Called on each cost report here, and after each budget
   * refresh: a report that exhausts the budget on another replica reaches this one that way.
   */
  private async stopExhausted(productIds: Iterable<string>): Promise<void> {
    for (const productId of new Set(productIds)) {
      const reason = this.budgets.exhaustedStop(productId);
      if (!reason) continue;
      for (const [jobId, lease] of [...this.leases.book.leases]) {
        if (lease.phase === 'running' && this.scheduling.activeProduct(jobId) === productId) await this.stopForBudget(jobId, lease.epoch, reason);
      }
    }
  }

  /** Stops a running attempt for its budget (cancel grace, then failed with `reason`); false when it ended meanwhile or was stopped already. */
  private async stopForBudget(jobId: string, epoch: number, reason: string): Promise<boolean> {
    try {
      const stopped = await this.writes.mutate(jobId, (current) =>
        current.epoch === epoch && current.stage === 'running' && current.budgetStopReason === undefined ? stopForBudget(current, this.clock.now(), reason) : null,
      );
      if (stopped.budgetStopReason !== reason) return false;
      this.log.info({ jobId, productId: stopped.productId, reason }, 'job stopped for its budget');
      return true;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err; // ended meanwhile
      return false;
    }
  }

  /** Every connected factory's filters and score for `job`, as a dispatch pass would weigh them. */
  explain(job: JobRecord): Promise<JobExplanation> {
    return explainJob(this.placement, job);
  }

  /** Jobs the store shows leased to `factoryId`. */
  listLeasedTo(factoryId: string): Promise<JobRecord[]> {
    return this.store.listLeasedTo(factoryId);
  }

  /** Tells factories about changes to their jobs that they did not cause themselves. */
  private async watchFeed(): Promise<void> {
    const updates = this.feed.topic.subscribe((item) => item.kind === 'update', this.stopping.signal);
    try {
      for await (const item of updates) {
        if (item.kind === 'update') this.onUpdate(item.update);
      }
    } catch (err) {
      this.log.error({ err }, 'fleet feed watcher stopped');
    }
  }

  /** Exposed for the simulation, which delivers updates itself. */
  onUpdate({ event, job }: JobUpdate): void {
    this.scheduling.observe({ event, job });
    this.budgets.observe({ event, job });
    this.decisions.observe({ event, job });
    // A job submitted and claimed at once (claimOnSubmit) already holds a newer lease: no pass for it.
    if (job.stage === 'queued' && (this.leases.book.lease(job.id)?.epoch ?? -1) <= job.epoch) {
      this.dispatch.noteQueued();
      this.requestDispatch();
    }
    void this.leases.apply({ t: 'changed', job, actor: event.actor, kind: event.kind, message: event.message, now: this.clock.now() });
  }
}

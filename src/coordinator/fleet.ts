/**
 * The connected fleet: one session per factory id, the dispatcher that offers queued jobs to free
 * slots, the reaper that takes back expired leases, and the watcher that tells a factory when a job
 * it holds was taken from it (cancelled, reaped, superseded).
 */
import { GoodbyeReason } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { pickFactory } from '../domain/dispatch.js';
import { DomainError } from '../domain/errors.js';
import { expire, offer } from '../domain/lifecycle.js';
import type { Logger } from '../logging.js';
import type { JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import { NO_FLEET_OBSERVER, type FleetObserver } from './fleet-observer.js';
import { FactorySession, type SessionLink } from './factory-session.js';
import type { JobFeed, JobUpdate } from './job-feed.js';
import type { Jobs } from './jobs.js';
import type { FleetSettings } from './lease-settings.js';

const REAP_BATCH = 200;

export interface FleetDeps {
  jobs: Jobs;
  store: JobStore;
  feed: JobFeed;
  clock: Clock;
  settings: FleetSettings;
  log: Logger;
  /** A number in [0, 1): jitter for retry back-off. Seeded in simulations. */
  random?: () => number;
  /** Runs a dispatch pass soon; setImmediate by default, the simulation's queue in tests. */
  schedule?: (run: () => void) => void;
  /** Told about stream traffic and refusals (metrics). */
  observer?: FleetObserver;
}

export class Fleet {
  readonly jobs: Jobs;
  readonly store: JobStore;
  readonly feed: JobFeed;
  readonly clock: Clock;
  readonly settings: FleetSettings;
  readonly random: () => number;
  readonly observer: FleetObserver;
  private readonly log: Logger;
  private readonly schedule: (run: () => void) => void;
  /** Sessions that said hello, by factory id. */
  private readonly byFactory = new Map<string, FactorySession>();
  /** Every open stream, including those still waiting for hello. */
  private readonly open = new Set<FactorySession>();
  private dispatch: 'idle' | 'running' | 'running_again' = 'idle';
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private sessionCounter = 0;

  constructor(deps: FleetDeps) {
    this.jobs = deps.jobs;
    this.store = deps.store;
    this.feed = deps.feed;
    this.clock = deps.clock;
    this.settings = deps.settings;
    this.log = deps.log;
    this.random = deps.random ?? Math.random;
    this.observer = deps.observer ?? NO_FLEET_OBSERVER;
    this.schedule = deps.schedule ?? ((run) => setImmediate(run));
  }

  /** Starts the periodic work (reaper, silent-session sweep, back-off wake-ups) and the feed watcher. */
  start(): void {
    void this.watchFeed();
    this.timer = setInterval(() => void this.tick(), this.settings.reaperIntervalMs);
    this.timer.unref();
  }

  /** Says goodbye to every factory; their leases stay in the store for them to resume elsewhere. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.stopping.abort();
    for (const session of [...this.open]) session.goodbye(GoodbyeReason.SHUTDOWN, 'coordinator is shutting down');
  }

  /** A new stream; `log` carries the stream's request id when the transport has one. */
  openSession(link: SessionLink, log: Logger = this.log): FactorySession {
    const sessionId = `s${++this.sessionCounter}-${this.clock.now().toString(36)}`;
    const session = new FactorySession(sessionId, this, link, log.child({ sessionId }));
    this.open.add(session);
    return session;
  }

  sessions(): FactorySession[] {
    return [...this.byFactory.values()];
  }

  register(session: FactorySession): void {
    const id = session.factory!.factoryId;
    const previous = this.byFactory.get(id);
    this.byFactory.set(id, session);
    if (previous && previous !== session) {
      previous.goodbye(GoodbyeReason.REPLACED, 'another stream for this factory id took over');
    }
  }

  unregister(session: FactorySession): void {
    this.open.delete(session);
    const id = session.factory?.factoryId;
    if (id && this.byFactory.get(id) === session) this.byFactory.delete(id);
  }

  /** Asks for a dispatch pass; passes never overlap, and requests during one cause one more. */
  requestDispatch(): void {
    if (this.dispatch !== 'idle') {
      this.dispatch = 'running_again';
      return;
    }
    this.dispatch = 'running';
    this.schedule(() => void this.runDispatch());
  }

  /** One round of periodic work; the simulation calls it directly. */
  async tick(): Promise<void> {
    this.sweepSilentSessions();
    await this.reapOnce().catch((err: unknown) => this.log.error({ err }, 'reaper pass failed'));
    this.requestDispatch(); // jobs whose back-off just ended
  }

  /** Closes sessions that missed their hello deadline or went silent. */
  sweepSilentSessions(): void {
    const now = this.clock.now();
    for (const session of [...this.open]) {
      const state = session.current.t;
      if (state === 'awaiting_hello' && now - session.connectedAt >= this.settings.helloTimeoutMs) {
        session.close('no hello');
        session.end(new DomainError('deadline_exceeded', `no hello within ${this.settings.helloTimeoutMs} ms of opening the stream`));
      } else if ((state === 'active' || state === 'draining') && now - session.lastSeenAt >= this.settings.heartbeatTimeoutMs) {
        this.log.warn({ factoryId: session.factory?.factoryId, silentMs: now - session.lastSeenAt }, 'factory silent; closing its stream');
        session.goodbye(GoodbyeReason.HEARTBEAT_TIMEOUT, `no message for ${now - session.lastSeenAt} ms`);
      }
    }
  }

  /** Expired leases go back to the queue (with back-off) or to dead. Returns how many were reaped. */
  async reapOnce(): Promise<number> {
    const now = this.clock.now();
    let reaped = 0;
    for (const job of await this.store.listExpiredLeases(now, REAP_BATCH)) {
      const epoch = job.epoch;
      try {
        await this.jobs.mutate(job.id, (current) =>
          current.epoch === epoch && current.lease && current.lease.expiresAt <= now
            ? expire(current, now, this.settings.retryBackoff, this.random(), `no heartbeat from ${current.lease.factoryId} before the lease expired`)
            : null,
        );
        reaped++;
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
      }
    }
    return reaped;
  }

  private async runDispatch(): Promise<void> {
    try {
      let again: boolean;
      do {
        this.dispatch = 'running';
        await this.dispatchOnce();
        // requestDispatch() may have flipped the state while the pass was awaiting the store.
        again = (this.dispatch as Fleet['dispatch']) === 'running_again';
      } while (again);
    } catch (err) {
      this.log.error({ err }, 'dispatch pass failed');
    } finally {
      this.dispatch = 'idle';
    }
  }

  /** Offers the best runnable jobs to factories with free slots; never more offers than slots. */
  async dispatchOnce(): Promise<void> {
    for (;;) {
      const free = this.sessions().reduce((n, s) => n + s.freeSlots, 0);
      if (free === 0) return;
      const now = this.clock.now();
      const limit = Math.min(1_000, Math.max(64, free * 8));
      const runnable = await this.store.listRunnable(now, limit);
      let offered = 0;
      for (const job of runnable) {
        const candidates = this.sessions()
          .filter((s) => s.freeSlots > 0)
          .map((s) => ({ factoryId: s.factory!.factoryId, labels: s.factory!.labels, freeSlots: s.freeSlots, session: s }));
        if (candidates.length === 0) return;
        const target = pickFactory(job, candidates);
        if (!target) continue;
        try {
          const leased = await this.jobs.mutate(job.id, (current) => offer(current, target.factoryId, now, this.settings));
          target.session.offer(leased);
          offered++;
        } catch (err) {
          if (!(err instanceof DomainError)) throw err; // taken meanwhile (cancelled, another replica)
        }
      }
      if (offered === 0 || runnable.length < limit) return;
    }
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
    if (job.stage === 'queued') this.requestDispatch();
    for (const session of this.byFactory.values()) {
      const held = session.leases.get(job.id);
      if (!held) continue;
      const factoryId = session.factory!.factoryId;
      if (event.actor === `factory:${factoryId}`) continue; // the session already knows
      if (job.lease?.factoryId === factoryId && job.lease.epoch === held.epoch) {
        if (event.kind === 'cancel_requested') session.cancel(job.id, held.epoch, event.message);
        continue;
      }
      session.revoke(job.id, held.epoch, `lease ended: ${event.kind}${event.message ? ` (${event.message})` : ''}`);
      session.goodbyeIfDrained();
      this.requestDispatch();
    }
  }
}

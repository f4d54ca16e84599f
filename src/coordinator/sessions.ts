/**
 * The registry of open factory streams: every stream from its opening (so one that never says
 * hello is closed in time), and by factory id once it said hello (one stream per factory: a new
 * one replaces the old). It closes streams that went silent or grew too old; the lease owner is
 * told where each factory's notices go.
 */
import { DomainError, notFound } from '../domain/errors.js';
import type { Logger } from '../logging.js';
import type { Clock } from './clock.js';
import type { FactoryLink } from './factory-link.js';
import type { Leases } from './leases.js';
import type { FleetSettings } from './lease-settings.js';

export interface SessionsDeps {
  clock: Clock;
  settings: Pick<FleetSettings, 'helloTimeoutMs' | 'heartbeatTimeoutMs'> & { maxStreamAgeMs?: number };
  random: () => number;
  log: Logger;
  leases: Pick<Leases, 'attach' | 'detach'>;
}

export class Sessions {
  /** Sessions that said hello, by factory id. */
  private readonly byFactory = new Map<string, FactoryLink>();
  /** Every open stream, including those still waiting for hello. */
  private readonly opened = new Set<FactoryLink>();
  private counter = 0;
  /** The registered sessions as an array, for withFreeSlots; null when one came or went since. */
  private roster: FactoryLink[] | null = null;
  private rosterCursor = 0;
  /** When each session is told goodbye for its age (only when maxStreamAgeMs is set). */
  private readonly retireAt = new WeakMap<FactoryLink, number>();

  constructor(private readonly deps: SessionsDeps) {}

  /** An id for a new stream, unique in this coordinator. */
  newSessionId(): string {
    return `s${++this.counter}-${this.deps.clock.now().toString(36)}`;
  }

  /** A new stream, before its hello (see sweep). */
  open(session: FactoryLink): void {
    this.opened.add(session);
    const maxAge = this.deps.settings.maxStreamAgeMs ?? 0;
    if (maxAge > 0) this.retireAt.set(session, session.connectedAt + maxAge - Math.floor(maxAge * 0.1 * this.deps.random()));
  }

  /** The sessions that said hello. */
  list(): FactoryLink[] {
    return [...this.byFactory.values()];
  }

  /**
   * Up to `limit` sessions with a free slot, taken round-robin over the fleet from where the last
   * call stopped. A submit places its job among such a window (at most SCORED_FACTORIES, as a pass
   * scores per job) instead of gathering every connected factory, so its cost does not grow with
   * the fleet, and successive submits spread over all of it. When fewer are free, all of them.
   */
  withFreeSlots(limit: number): FactoryLink[] {
    const roster = (this.roster ??= [...this.byFactory.values()]);
    const found: FactoryLink[] = [];
    let step = 0;
    for (; step < roster.length && found.length < limit; step++) {
      const session = roster[(this.rosterCursor + step) % roster.length]!;
      if (session.freeSlots > 0) found.push(session);
    }
    this.rosterCursor = roster.length === 0 ? 0 : (this.rosterCursor + step) % roster.length;
    return found;
  }

  register(session: FactoryLink): void {
    const id = session.factory!.factoryId;
    const previous = this.byFactory.get(id);
    this.byFactory.set(id, session);
    this.deps.leases.attach(id, session);
    this.roster = null;
    if (previous && previous !== session) {
      previous.goodbye('replaced', 'another stream for this factory id took over');
    }
  }

  unregister(session: FactoryLink): void {
    this.opened.delete(session);
    const id = session.factory?.factoryId;
    if (id) this.deps.leases.detach(id, session);
    if (id && this.byFactory.get(id) === session) {
      this.byFactory.delete(id);
      this.roster = null;
    }
  }

  /** An operator drains a factory: no new offers; it is told goodbye once its jobs are done. */
  drain(factoryId: string, reason: string): void {
    const session = this.byFactory.get(factoryId);
    if (!session) throw notFound(`factory ${factoryId} is not connected to this coordinator`);
    void session.drain(reason);
  }

  /** Says goodbye to every open stream. */
  goodbyeAll(): void {
    for (const session of [...this.opened]) session.goodbye('shutdown', 'coordinator is shutting down');
  }

  /** Closes sessions that missed their hello deadline, went silent, or reached their maximum age. */
  sweep(): void {
    const { clock, settings, log } = this.deps;
    const now = clock.now();
    for (const session of [...this.opened]) {
      const state = session.current.t;
      if (state === 'awaiting_hello' && now - session.connectedAt >= settings.helloTimeoutMs) {
        session.close('no hello');
        session.end(new DomainError('deadline_exceeded', `no hello within ${settings.helloTimeoutMs} ms of opening the stream`));
      } else if ((state === 'active' || state === 'draining') && now - session.lastSeenAt >= settings.heartbeatTimeoutMs) {
        log.warn({ factoryId: session.factory?.factoryId, silentMs: now - session.lastSeenAt }, 'factory silent; closing its stream');
        session.goodbye('heartbeat_timeout', `no message for ${now - session.lastSeenAt} ms`);
      } else if (state === 'active' && now >= (this.retireAt.get(session) ?? Infinity)) {
        // Its leases stay in the store; the factory reconnects (elsewhere, behind a balancer) and resumes them.
        log.info({ factoryId: session.factory?.factoryId, ageMs: now - session.connectedAt }, 'stream reached its maximum age; goodbye');
        session.goodbye('max_age', `stream reached its maximum age (${now - session.connectedAt} ms); reconnect to rebalance`);
      }
    }
  }
}

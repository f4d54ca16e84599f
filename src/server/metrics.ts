/**
 * Prometheus metrics (prom-client), served at /metrics on the HTTP listener. Counters follow the
 * committed job events and the fleet's stream traffic; gauges that describe current state (jobs by
 * stage, connected factories, unplaceable demand) are computed when Prometheus scrapes.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Coordinator } from '../coordinator/coordinator.js';
import type { FleetObserver } from '../coordinator/fleet-observer.js';
import type { Budgets, BudgetView } from '../coordinator/budgets.js';
import type { JobUpdate } from '../coordinator/job-feed.js';
import type { StoreObserver } from '../store/timed-store.js';

/** Event kinds that mean a lease was taken back because it ran out. */
const EXPIRY_KINDS = new Set(['offer_expired', 'retry_scheduled', 'dead', 'cancelled']);

/** Series of factory labels in /metrics at most, and the characters kept of each key and value. */
const MAX_LABEL_SERIES = 200;
const MAX_LABEL_CHARS = 64;

export class CoordinatorMetrics {
  readonly registry = new Registry();
  private readonly transitions = new Counter({ name: 'gigafactory_job_transitions_total', help: 'Committed job changes by event kind.', labelNames: ['kind'], registers: [this.registry] });
  private readonly dispatchLatency = new Histogram({
    name: 'gigafactory_dispatch_latency_seconds',
    help: 'Time from a job becoming runnable to its lease offer.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
    registers: [this.registry],
  });
  private readonly leaseExpiries = new Counter({ name: 'gigafactory_lease_expiries_total', help: 'Leases taken back by the reaper because they ran out.', registers: [this.registry] });
  private readonly retries = new Counter({ name: 'gigafactory_retries_total', help: 'Attempts that failed or were lost and were scheduled to run again.', registers: [this.registry] });
  private readonly preemptions = new Counter({ name: 'gigafactory_preemptions_total', help: 'Running jobs stopped and requeued to make room for a job of higher priority.', registers: [this.registry] });
  private readonly deadLetters = new Counter({ name: 'gigafactory_dead_letters_total', help: 'Jobs dead-lettered after using every attempt.', registers: [this.registry] });
  private readonly refusals = new Counter({ name: 'gigafactory_stale_epoch_refusals_total', help: 'Factory messages refused and answered with lease_revoked, by reason.', labelNames: ['reason'], registers: [this.registry] });
  private readonly streamMessages = new Counter({ name: 'gigafactory_stream_messages_total', help: 'Messages on factory streams.', labelNames: ['direction', 'kind'], registers: [this.registry] });
  private readonly storeSeconds = new Histogram({
    name: 'gigafactory_store_operation_seconds',
    help: 'Store operation latency.',
    labelNames: ['operation', 'outcome'],
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  private readonly budgetCost = new Counter({ name: 'gigafactory_budget_cost_total', help: 'Cost reported by factories in job results, by product.', labelNames: ['product'], registers: [this.registry] });
  private readonly budgetStops = new Counter({ name: 'gigafactory_budget_stops_total', help: 'Running jobs stopped for exceeding their product\'s wall-clock budget.', labelNames: ['product'], registers: [this.registry] });
  private readonly storeConflicts = new Counter({ name: 'gigafactory_store_conflicts_total', help: 'Compare-and-set writes that lost to a concurrent writer.', labelNames: ['operation'], registers: [this.registry] });

  readonly storeObserver: StoreObserver = {
    observe: (operation, seconds, outcome) => {
      this.storeSeconds.observe({ operation, outcome }, seconds);
      if (outcome === 'conflict') this.storeConflicts.inc({ operation });
    },
  };

  readonly fleetObserver: FleetObserver = {
    messageIn: (kind) => this.streamMessages.inc({ direction: 'in', kind }),
    messageOut: (kind) => this.streamMessages.inc({ direction: 'out', kind }),
    refused: (reason) => this.refusals.inc({ reason }),
  };

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gigafactory_process_' });
  }

  /** Starts following the coordinator: counters from its feed, gauges from its state on scrape. */
  attach(coordinator: Coordinator, signal: AbortSignal): void {
    void (async () => {
      for await (const item of coordinator.feed.topic.subscribe((i) => i.kind === 'update', signal)) {
        if (item.kind === 'update') this.onUpdate(item.update);
      }
    })().catch(() => undefined); // ends with the coordinator
    const { store, fleetView, fleet } = coordinator;
    this.budgetGauges(fleet.budgets);
    new Gauge({
      name: 'gigafactory_jobs',
      help: 'Jobs by product and stage.',
      labelNames: ['product', 'stage'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const c of await store.countJobs()) this.set({ product: c.productId, stage: c.stage }, c.count);
      },
    });
    // Label keys and values come from factories: bounded here, so a factory advertising thousands
    // of made-up labels cannot make thousands of series.
    let foldedPairs = 0;
    new Gauge({
      name: 'gigafactory_factories_connected',
      help: `Connected factories by label (one series per label key and value, for the ${MAX_LABEL_SERIES} most common; keys and values cut to ${MAX_LABEL_CHARS} characters; the rest "_other").`,
      labelNames: ['label', 'value'],
      registers: [this.registry],
      collect() {
        this.reset();
        const counts = new Map<string, { label: string; value: string; n: number }>();
        for (const f of fleetView.factories()) {
          for (const [key, raw] of Object.entries(f.labels)) {
            const label = key.slice(0, MAX_LABEL_CHARS);
            const value = raw.slice(0, MAX_LABEL_CHARS);
            const id = `${label}\0${value}`;
            const entry = counts.get(id);
            if (entry) entry.n++;
            else counts.set(id, { label, value, n: 1 });
          }
        }
        const ranked = [...counts.values()].sort((a, b) => b.n - a.n);
        for (const { label, value, n } of ranked.slice(0, MAX_LABEL_SERIES)) this.set({ label, value }, n);
        const rest = ranked.slice(MAX_LABEL_SERIES);
        if (rest.length > 0) this.set({ label: '_other', value: '_other' }, rest.reduce((sum, e) => sum + e.n, 0));
        foldedPairs = rest.length;
      },
    });
    // Registered after the gauge above, so a scrape reads the count that gauge just made.
    new Gauge({
      name: 'gigafactory_factory_label_series_folded',
      help: `Factory label key/value pairs beyond the ${MAX_LABEL_SERIES} most common, counted in the "_other" series of gigafactory_factories_connected.`,
      registers: [this.registry],
      collect() {
        this.set(foldedPairs);
      },
    });
    new Gauge({
      name: 'gigafactory_factory_slots',
      help: 'Factory slots across the connected fleet, free or busy.',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const factories = fleetView.factories();
        const free = factories.reduce((n, f) => n + f.freeSlots, 0);
        this.set({ state: 'free' }, free);
        this.set({ state: 'busy' }, factories.reduce((n, f) => n + f.slots, 0) - free);
      },
    });
    const unplaceableOldest = new Gauge({
      name: 'gigafactory_unplaceable_oldest_wait_seconds',
      help: 'Autoscaling signal: wait of the oldest queued job no connected factory can run, by requirements.',
      labelNames: ['requirements'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'gigafactory_unplaceable_jobs',
      help: 'Autoscaling signal: queued jobs no connected factory can run, by requirements.',
      labelNames: ['requirements'],
      registers: [this.registry],
      async collect() {
        this.reset();
        unplaceableOldest.reset();
        for (const d of (await fleetView.scalingSignal()).demands) {
          this.set({ requirements: d.requirementsKey }, d.queuedJobs);
          unplaceableOldest.set({ requirements: d.requirementsKey }, d.oldestWaitMs / 1000);
        }
      },
    });
  }

  /**
   * Budgets of every product with one configured or with spend today, read when Prometheus scrapes.
   * The four gauges collect together, so one scrape reads the budgets once.
   */
  private budgetGauges(budgets: Budgets): void {
    let reading: Promise<BudgetView[]> | null = null;
    const views = (): Promise<BudgetView[]> => (reading ??= budgets.list().finally(() => (reading = null)));
    const gauge = (name: string, help: string, labelNames: string[], value: (v: BudgetView, set: (labels: Record<string, string>, n: number) => void) => void): void =>
      void new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          const all = await views();
          this.reset();
          for (const v of all) value(v, (labels, n) => this.set(labels, n));
        },
      });
    gauge('gigafactory_budget_spent', 'Cost recorded in the current budget period, by product.', ['product', 'period'], (v, set) => set({ product: v.productId, period: v.config.period }, v.spent));
    gauge('gigafactory_budget_limit', 'Cost limit per budget period, by product (0: none).', ['product', 'period'], (v, set) => set({ product: v.productId, period: v.config.period }, v.config.costLimit));
    gauge('gigafactory_budget_reserved', 'Estimated cost of jobs holding leases, by product.', ['product'], (v, set) => set({ product: v.productId }, v.reserved));
    gauge('gigafactory_budget_state', 'Budget state by product: 1 for the current state (ok, paused, exhausted), 0 for the others.', ['product', 'state'], (v, set) => {
      for (const state of ['ok', 'paused', 'exhausted'] as const) set({ product: v.productId, state }, v.state === state ? 1 : 0);
    });
  }

  private onUpdate({ event, job }: JobUpdate): void {
    const ended = job.attempts.find((a) => a.epoch === event.epoch && a.endedAt === event.at);
    if (ended?.cost && event.actor.startsWith('factory:')) this.budgetCost.inc({ product: job.productId }, ended.cost);
    if (event.actor === 'budget') this.budgetStops.inc({ product: job.productId });
    this.transitions.inc({ kind: event.kind });
    if (event.kind === 'offered') this.dispatchLatency.observe(Math.max(0, event.at - job.notBefore) / 1000);
    if (event.actor === 'reaper' && EXPIRY_KINDS.has(event.kind)) this.leaseExpiries.inc();
    if (event.kind === 'retry_scheduled') this.retries.inc();
    if (event.kind === 'dead') this.deadLetters.inc();
    if (event.kind === 'preempted') this.preemptions.inc();
  }
}

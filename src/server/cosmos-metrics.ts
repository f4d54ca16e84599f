/**
 * Cosmos DB round trips and request units as Prometheus counters, read from the stores' own tallies
 * when Prometheus scrapes: what a replica costs, by store operation (the jobs container) and for the
 * control container (credentials, settings) as a whole, and the 429s (request rate too large) each
 * container answered with the time the SDK waited on them before retrying. Registered only with
 * `--store cosmos`.
 */
import { Counter, type Registry } from 'prom-client';
import type { ControlStats, CosmosStats } from '../store/cosmos/index.js';

export interface CosmosStatsSources {
  jobs?: () => CosmosStats;
  control?: () => ControlStats;
}

export function registerCosmosMetrics(registry: Registry, sources: CosmosStatsSources): void {
  const each = (visit: (labels: { container: string; operation: string }, requests: number, charge: number) => void): void => {
    for (const [operation, op] of Object.entries(sources.jobs?.().byOperation ?? {})) visit({ container: 'jobs', operation }, op.requests, op.requestCharge);
    const control = sources.control?.();
    if (control) visit({ container: 'control', operation: 'all' }, control.requests, control.requestCharge);
  };
  new Counter({
    name: 'gigafactory_cosmos_requests_total',
    help: 'Cosmos DB requests (round trips) made by this replica, by container and store operation.',
    labelNames: ['container', 'operation'],
    registers: [registry],
    collect() {
      this.reset();
      each((labels, requests) => this.inc(labels, requests));
    },
  });
  new Counter({
    name: 'gigafactory_cosmos_request_units_total',
    help: 'Request units Cosmos DB charged this replica (x-ms-request-charge), by container and store operation.',
    labelNames: ['container', 'operation'],
    registers: [registry],
    collect() {
      this.reset();
      each((labels, _requests, charge) => this.inc(labels, charge));
    },
  });
  const throttling = (visit: (container: string, throttled: number, waitMs: number) => void): void => {
    const jobs = sources.jobs?.();
    if (jobs) visit('jobs', jobs.throttled, jobs.throttleWaitMs);
    const control = sources.control?.();
    if (control) visit('control', control.throttled, control.throttleWaitMs);
  };
  new Counter({
    name: 'gigafactory_cosmos_throttled_total',
    help: 'Cosmos DB 429 answers (request rate too large: the container\'s RU/s spent) this replica met, by container; each was retried after the server\'s x-ms-retry-after-ms unless the retry budget was spent.',
    labelNames: ['container'],
    registers: [registry],
    collect() {
      this.reset();
      throttling((container, throttled) => this.inc({ container }, throttled));
    },
  });
  new Counter({
    name: 'gigafactory_cosmos_throttle_wait_seconds_total',
    help: 'Seconds this replica\'s Cosmos DB calls waited on 429 retry-afters before retrying, by container.',
    labelNames: ['container'],
    registers: [registry],
    collect() {
      this.reset();
      throttling((container, _throttled, waitMs) => this.inc({ container }, waitMs / 1000));
    },
  });
}

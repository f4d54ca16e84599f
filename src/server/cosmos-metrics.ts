/**
 * Cosmos DB round trips and request units as Prometheus counters, read from the stores' own tallies
 * when Prometheus scrapes: what a replica costs, by store operation (the jobs container) and for the
 * control container (credentials, settings) as a whole. Registered only with `--store cosmos`.
 */
import { Counter, type Registry } from 'prom-client';
import type { CosmosStats } from '../store/cosmos/index.js';

export interface CosmosStatsSources {
  jobs?: () => CosmosStats;
  control?: () => { requests: number; requestCharge: number };
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
}

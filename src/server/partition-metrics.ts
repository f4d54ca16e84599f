/**
 * This replica's share of the work (coordinator/partition-owner.ts) as Prometheus gauges, read from
 * the owner when Prometheus scrapes: how many partitions it holds and how many live replicas it
 * saw on its last step. Summed over the replicas, held is the partition count once the table is at
 * rest; a replica holding none while others are live is waiting for its share. Cosmos only.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PartitionOwnerStats } from '../coordinator/partition-owner.js';

export function registerPartitionMetrics(registry: Registry, stats: () => PartitionOwnerStats): void {
  new Gauge({
    name: 'gigafactory_partitions_held',
    help: 'Partitions of the job space this replica holds: it examines the queued jobs of these only (docs/scaling-out.md).',
    registers: [registry],
    collect() {
      this.set(stats().held);
    },
  });
  new Gauge({
    name: 'gigafactory_partition_members',
    help: 'Live coordinator replicas this replica saw in the membership table on its last partition step, itself included.',
    registers: [registry],
    collect() {
      this.set(stats().members);
    },
  });
  new Counter({
    name: 'gigafactory_partition_moves_total',
    help: 'Partitions this replica took (acquired) or gave up (released) since it started.',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      this.reset();
      const s = stats();
      this.inc({ direction: 'acquired' }, s.acquired);
      this.inc({ direction: 'released' }, s.released);
    },
  });
}

/** Tracker echo metrics: outcomes counted as the sender settles them, the backlog read on scrape. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../coordinator/clock.js';
import type { EchoObserver } from '../coordinator/echo-sender.js';
import type { EchoOutbox } from '../store/echo-outbox.js';

export function registerEchoMetrics(registry: Registry, outbox: EchoOutbox, clock: Clock): EchoObserver {
  const outcomes = new Counter({
    name: 'gigafactory_tracker_echoes_total',
    help: 'Tracker echo attempts by outcome: delivered, failed (will retry or give up), dead (given up).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const dead = new Gauge({ name: 'gigafactory_tracker_echo_dead', help: 'Tracker echoes given up, in the outbox.', registers: [] });
  const oldest = new Gauge({ name: 'gigafactory_tracker_echo_oldest_pending_seconds', help: 'Age of the oldest tracker echo not yet delivered (0: none).', registers: [] });
  new Gauge({
    name: 'gigafactory_tracker_echo_pending',
    help: 'Tracker echoes waiting to be delivered.',
    registers: [registry],
    async collect() {
      const backlog = await outbox.echoBacklog();
      this.set(backlog.pending);
      dead.set(backlog.dead);
      oldest.set(backlog.oldestPendingAt === null ? 0 : Math.max(0, clock.now() - backlog.oldestPendingAt) / 1000);
    },
  });
  // Registered after the pending gauge, whose collect sets them.
  registry.registerMetric(dead);
  registry.registerMetric(oldest);
  return { settled: (outcome) => outcomes.inc({ outcome }) };
}

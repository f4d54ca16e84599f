/** Starts the tracker echo sender when an echo URL is configured and the store keeps an outbox. */
import type { Registry } from 'prom-client';
import type { ServeConfig } from '../config.js';
import type { Clock } from '../coordinator/clock.js';
import { EchoSender } from '../coordinator/echo-sender.js';
import type { JobFeed } from '../coordinator/job-feed.js';
import type { Logger } from '../logging.js';
import { echoOutboxOf } from '../store/echo-outbox.js';
import { registerEchoMetrics } from './echo-metrics.js';

export function startTrackerEcho(config: ServeConfig, store: unknown, feed: JobFeed, clock: Clock, log: Logger, registry: Registry): EchoSender | null {
  const outbox = echoOutboxOf(store);
  if (!config.trackerEchoUrl) return null;
  if (!outbox) {
    log.warn('trackerEchoUrl is set, but this store keeps no echo outbox: no tracker echoes will be sent');
    return null;
  }
  const sender = new EchoSender(
    outbox,
    {
      url: config.trackerEchoUrl,
      secret: config.trackerEchoSecret!, // the configuration requires it with a URL
      timeoutMs: config.trackerEchoTimeoutMs,
      backoff: { baseMs: config.trackerEchoRetryBaseMs, maxMs: config.trackerEchoRetryMaxMs },
      maxAttempts: config.trackerEchoMaxAttempts,
      maxAgeMs: config.trackerEchoMaxAgeMs,
      pollMs: config.trackerEchoPollMs,
    },
    clock,
    log.child({ component: 'tracker-echo' }),
    registerEchoMetrics(registry, outbox, clock),
  );
  sender.start(feed);
  return sender;
}

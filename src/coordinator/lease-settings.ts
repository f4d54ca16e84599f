/** The timings of the factory protocol, from configuration. */
import type { BackoffPolicy } from '../domain/backoff.js';
import type { LeaseTimings } from '../domain/lifecycle.js';

export interface FleetSettings extends LeaseTimings {
  /** How often factories heartbeat (told in welcome). */
  heartbeatIntervalMs: number;
  /** A session silent for longer than this is closed; its leases then run out on their own. */
  heartbeatTimeoutMs: number;
  /** Time a new stream has to send hello. */
  helloTimeoutMs: number;
  /**
   * A factory whose stream breaks without a goodbye (connection reset, process killed) has this long
   * to reconnect and resume its leases; after it they lapse and the reaper takes the jobs back,
   * instead of waiting out the whole lease TTL.
   */
  reconnectGraceMs: number;
  /** How often the reaper looks for expired leases. */
  reaperIntervalMs: number;
  /** SIGTERM→SIGKILL grace given with a cancel notice. */
  cancelGraceMs: number;
  /** Largest log chunk payload accepted from a factory. */
  maxLogChunkBytes: number;
  /** Back-off before a failed or lost job is offered again. */
  retryBackoff: BackoffPolicy;
  /** Stop lower-priority jobs to make room for a higher-priority one that cannot be placed. */
  preemption: boolean;
  /** Time a preempted job gets between SIGTERM and SIGKILL. */
  preemptionGraceMs: number;
}

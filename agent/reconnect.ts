/**
 * The agent's one reconnect back-off. Every way a stream can end (refused, reset, goodbye, keepalive
 * timeout) goes through this policy, so there is never a second loop with its own idea of delays.
 * The delays are the domain's `backoffDelayMs`: exponential, capped, with equal jitter so a fleet
 * that lost its coordinator does not reconnect in lockstep.
 */
import { setTimeout as sleepMs } from 'node:timers/promises';
import { backoffDelayMs, type BackoffPolicy } from '../src/domain/backoff.js';

export const DEFAULT_RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

export interface ReconnectOptions {
  policy?: BackoffPolicy;
  /** A number in [0, 1); injectable so tests see exact delays. */
  random?: () => number;
  /** Waits `ms`, rejecting when `signal` aborts; injectable so tests need no clock. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class ReconnectPolicy {
  private readonly policy: BackoffPolicy;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private failed = 0;

  constructor(opts: ReconnectOptions = {}) {
    this.policy = opts.policy ?? DEFAULT_RECONNECT_BACKOFF;
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? ((ms, signal) => sleepMs(ms, undefined, signal ? { signal } : {}));
  }

  /** Connections that ended since the last healthy one; the next attempt's number is this plus one. */
  get failures(): number {
    return this.failed;
  }

  /**
   * Records that a connection ended without becoming healthy (or after it) and returns the delay
   * before the next attempt. `minDelayMs` honours a goodbye's retry_time: the coordinator's request
   * for a pause lengthens the delay but never shortens it.
   */
  nextDelayMs(minDelayMs = 0): number {
    this.failed += 1;
    return Math.max(minDelayMs, backoffDelayMs(this.failed, this.policy, this.random()));
  }

  /** `nextDelayMs`, then waits it. Rejects with an AbortError if `signal` aborts (agent shutdown). */
  async backoff(opts: { signal?: AbortSignal; minDelayMs?: number } = {}): Promise<number> {
    const delay = this.nextDelayMs(opts.minDelayMs);
    await this.sleep(delay, opts.signal);
    return delay;
  }

  /**
   * The connection became healthy (the coordinator's welcome arrived): the next failure starts
   * from the base delay again instead of where the last outage left off.
   */
  reset(): void {
    this.failed = 0;
  }
}

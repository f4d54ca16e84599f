/**
 * The tracker echo sender: a loop of its own that claims due entries from the store's outbox, POSTs
 * each (signed) to the tracker with a timeout, and settles it: delivered on 2xx, retried later with
 * capped exponential back-off and jitter otherwise, dead after too many attempts or too long.
 *
 * It shares nothing with dispatch but the store, sends at most CONCURRENCY requests at once and
 * bounds each by a timeout, so a slow or failing tracker never holds up a job. Delivery is at least
 * once: an echo sent but not yet marked delivered when the process dies (or whose claim lapses while
 * a slow request is still out) is sent again, with the same event id, which receivers dedupe on.
 */
import { randomUUID } from 'node:crypto';
import { backoffDelayMs, type BackoffPolicy } from '../domain/backoff.js';
import { echoPayload } from '../domain/echo-payload.js';
import type { Logger } from '../logging.js';
import type { EchoDelivery, EchoOutbox } from '../store/echo-outbox.js';
import type { Clock } from './clock.js';
import type { JobFeed } from './job-feed.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signEcho } from './echo-signature.js';

export interface EchoSettings {
  url: string;
  /** Never logged. */
  secret: string;
  timeoutMs: number;
  backoff: BackoffPolicy;
  maxAttempts: number;
  maxAgeMs: number;
  pollMs: number;
}

/** What the sender reports for metrics. */
export interface EchoObserver {
  settled(outcome: 'delivered' | 'failed' | 'dead'): void;
}

/** Entries claimed per pass, and requests in flight at once. */
const BATCH = 32;
const CONCURRENCY = 8;
/**
 * A claim outlives the pass it covers (its entries go out CONCURRENCY at a time, each bounded by the
 * timeout), so nobody else takes an entry while it is in flight; and lapses soon after, so an entry
 * claimed by a sender that died is sent again without a long wait.
 */
const CLAIM_MARGIN_MS = 5_000;

export class EchoSender {
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** A timer for the next pass is set (idle between polls), so a wake can bring it forward. */
  private idle = false;
  /** Woken during a pass: run another at once (the pass may have looked before the change). */
  private rerun = false;
  /** Where echoes go, for log lines: the origin only (a path or query may carry a token). */
  private readonly target: string;

  constructor(
    private readonly outbox: EchoOutbox,
    private readonly settings: EchoSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly observer: EchoObserver = { settled: () => undefined },
    private readonly random: () => number = Math.random,
  ) {
    this.target = new URL(settings.url).origin;
  }

  /**
   * Starts the loop. With `feed`, a change of a tracked job made here wakes it at once; it polls
   * anyway (pollMs), for retries that come due and for changes made by other replicas.
   */
  start(feed?: JobFeed): void {
    this.log.info({ target: this.target }, 'tracker echo sender started');
    this.schedule(0);
    if (!feed) return;
    void (async () => {
      for await (const _ of feed.topic.subscribe((i) => i.kind === 'update' && i.update.job.tracker !== undefined, this.stopping.signal)) this.wake();
    })().catch((err: unknown) => this.log.warn({ err }, 'tracker echo sender stopped following job changes; polling only'));
  }

  /** Runs a pass now (or right after the one running). */
  wake(): void {
    if (this.stopping.signal.aborted) return;
    if (!this.idle) {
      this.rerun = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  /**
   * Stops claiming, aborts the requests in flight (they are retried later) and waits for the pass to
   * settle them. Entries claimed but not yet sent wait for their claim to lapse.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: claims a batch of due echoes and settles each. Returns how many it claimed. */
  async pass(): Promise<number> {
    const now = this.clock.now();
    const claim = randomUUID();
    const claimMs = Math.ceil(BATCH / CONCURRENCY) * this.settings.timeoutMs + CLAIM_MARGIN_MS;
    const batch = await this.outbox.claimDueEchoes(now, BATCH, now + claimMs, claim);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batch.length && !this.stopping.signal.aborted) await this.deliver(batch[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, batch.length) }, worker));
    return batch.length;
  }

  private schedule(delayMs: number): void {
    if (this.stopping.signal.aborted) return;
    this.idle = true;
    this.timer = setTimeout(() => {
      this.idle = false;
      this.rerun = false;
      this.running = this.pass().then(
        (claimed) => this.schedule(claimed === BATCH || this.rerun ? 0 : this.settings.pollMs),
        (err: unknown) => {
          this.log.warn({ err }, 'tracker echo pass failed; trying again');
          this.schedule(this.settings.pollMs);
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  private async deliver(delivery: EchoDelivery): Promise<void> {
    const fields = { eventId: delivery.eventId, externalId: delivery.externalId, attempt: delivery.attempts + 1 };
    if (this.clock.now() - delivery.createdAt > this.settings.maxAgeMs) {
      return this.giveUp(delivery, `older than trackerEchoMaxAgeMs (${this.settings.maxAgeMs} ms)`, fields);
    }
    const error = await this.post(delivery);
    if (error === null) {
      await this.outbox.settleEcho(delivery, { state: 'delivered' });
      this.observer.settled('delivered');
      this.log.debug({ ...fields, target: this.target }, 'tracker echo delivered');
      return;
    }
    this.observer.settled('failed');
    const attempts = delivery.attempts + 1;
    if (attempts >= this.settings.maxAttempts) return this.giveUp(delivery, `${attempts} attempts failed; last: ${error}`, fields);
    const delayMs = backoffDelayMs(attempts, this.settings.backoff, this.random());
    if (this.clock.now() + delayMs - delivery.createdAt > this.settings.maxAgeMs) return this.giveUp(delivery, `would pass trackerEchoMaxAgeMs; last: ${error}`, fields);
    await this.outbox.settleEcho(delivery, { state: 'retry', dueAt: this.clock.now() + delayMs, error });
    this.log.warn({ ...fields, target: this.target, error, retryInMs: delayMs }, 'tracker echo failed; will retry');
  }

  /** The error, or null on a 2xx answer. */
  private async post(delivery: EchoDelivery): Promise<string | null> {
    const body = JSON.stringify(echoPayload(delivery.eventId, delivery.externalId, delivery.externalUrl, delivery.event));
    try {
      const res = await fetch(this.settings.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signEcho(this.settings.secret, body),
          [EVENT_ID_HEADER]: delivery.eventId,
          [TIMESTAMP_HEADER]: String(Math.floor(this.clock.now() / 1000)),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.settings.timeoutMs)]),
      });
      await res.body?.cancel().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return cause?.code ?? cause?.message ?? (err as Error).message;
    }
  }

  private async giveUp(delivery: EchoDelivery, error: string, fields: Record<string, unknown>): Promise<void> {
    if (!(await this.outbox.settleEcho(delivery, { state: 'dead', error }))) return; // another sender took it over
    this.observer.settled('dead');
    this.log.error({ ...fields, target: this.target, error }, 'tracker echo given up (dead)');
  }
}

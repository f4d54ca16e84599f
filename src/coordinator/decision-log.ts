/**
 * Records placement decisions and the outcomes of their attempts for the offline evaluation of
 * scoring weights, off the dispatch path: a placement only appends to a buffer here, and the buffer
 * is written in one batch (one transaction) every FLUSH_MS or once it holds FLUSH_AT rows. It is
 * bounded: beyond MAX_BUFFERED rows the oldest are dropped and counted, never the dispatch slowed.
 * A decision lost that way (or at a crash) only makes the evaluation's sample a little smaller.
 */
import type { Logger } from '../logging.js';
import { attemptsEndedIn, type AttemptEnd, type PlacementDecision } from '../domain/placement-decision.js';
import type { DecisionStore } from '../store/decision-store.js';
import type { JobUpdate } from './job-feed.js';

const FLUSH_MS = 1_000;
const FLUSH_AT = 512;
const MAX_BUFFERED = 20_000;

export class DecisionLog {
  private decisions: PlacementDecision[] = [];
  private ends: AttemptEnd[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  /** Rows dropped because the buffer was full (the store fell behind). */
  dropped = 0;

  constructor(
    readonly store: DecisionStore,
    private readonly log: Logger,
  ) {}

  /** A placement whose claim the store accepted. */
  placed(decision: PlacementDecision): void {
    this.decisions.push(decision);
    this.bound();
  }

  /** Follows committed changes: an attempt that ended in one has its outcome recorded. */
  observe({ job }: JobUpdate): void {
    if (job.attempts.length === 0 || job.attempts.at(-1)!.endedAt !== job.updatedAt) return; // the usual change: no attempt ended
    this.ends.push(...attemptsEndedIn(job));
    this.bound();
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    void this.flush();
  }

  /** Writes what is buffered (decisions before outcomes, so an outcome finds its decision); one write at a time. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const [decisions, ends] = [this.decisions, this.ends];
      [this.decisions, this.ends] = [[], []];
      try {
        if (decisions.length > 0) await this.store.appendDecisions(decisions);
        if (ends.length > 0) await this.store.recordOutcomes(ends);
      } catch (err) {
        this.dropped += decisions.length + ends.length;
        this.log.warn({ err, decisions: decisions.length, outcomes: ends.length }, 'recording placement decisions failed');
      }
    });
    return this.writing;
  }

  private bound(): void {
    const excess = this.decisions.length + this.ends.length - MAX_BUFFERED;
    if (excess > 0) {
      this.dropped += excess;
      // Outcomes of older attempts first: a decision without an outcome is only left out of the replay.
      const fromEnds = Math.min(excess, this.ends.length);
      this.ends.splice(0, fromEnds);
      this.decisions.splice(0, excess - fromEnds);
    }
    if (this.decisions.length + this.ends.length >= FLUSH_AT) void this.flush();
  }
}

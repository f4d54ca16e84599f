/**
 * When dispatch passes (dispatcher.ts) run: one at a time, on request, skipped when they could only
 * list an empty queue; a job placed the moment it is submitted while no pass is pending; and, over
 * a shared store, a poll for the jobs other replicas queue.
 */
import type { Logger } from '../logging.js';
import { claimOnSubmit, dispatchPass, type DispatchContext } from './dispatcher.js';
import type { SubmitClaimer } from './jobs.js';

/**
 * The shared-store runnable poll: fast while there is work, backing off to the slowest when idle.
 * A replica polls only its own partitions (runnable-source.ts), a small indexed query, so the
 * slowest poll is short enough that a job stored by another replica is offered within about 250 ms.
 */
export const SHARED_POLL = { minMs: 50, maxMs: 250 } as const;

export interface DispatchLoopDeps {
  /** Other coordinators write to the same store: poll it, and place no job at submit (see Jobs). */
  sharedStore: boolean;
  /** Runs a pass soon; setImmediate by default, the simulation's queue in tests. */
  schedule: (run: () => void) => void;
  log: Logger;
  /** Where offers lost to another writer between listing and claiming are counted. */
  races: { dispatchLost: number };
}

export class DispatchLoop {
  private state: 'idle' | 'running' | 'running_again' = 'idle';
  /**
   * False only when the last pass listed the whole runnable queue and offered every job in it, and
   * no job was queued since (`queuedSince` counts those): then a pass, asked for because a slot
   * freed up, would list an empty queue, and is skipped. Any job entering the queue, the periodic
   * tick (back-offs ending) and a shared store (others' submits) make passes list again.
   */
  private mayHaveRunnable = true;
  private queuedSince = 0;
  private pollTimer: NodeJS.Timeout | null = null;
  private pollDelayMs: number = SHARED_POLL.minMs;
  private offersSincePoll = 0;
  /** When a dispatch pass last listed runnable jobs: any such pass saw other replicas' jobs too. */
  private lastListedAt = 0;
  private stopped = false;
  /**
   * For Jobs: places a job at the moment it is submitted, when a slot is free and no pass is
   * pending (a pending pass lists the queue best-first and must not be overtaken). Null over a
   * shared store, whose writes may land out of order (see Jobs).
   */
  readonly submitClaimer: SubmitClaimer | null;

  constructor(
    private readonly context: DispatchContext,
    private readonly deps: DispatchLoopDeps,
  ) {
    const onLost = (): void => {
      this.noteQueued(); // if the job was stored after all, a pass must find it
      this.request();
    };
    this.submitClaimer = deps.sharedStore ? null : { claim: (job) => (this.state === 'idle' ? claimOnSubmit(context, job, onLost) : null) };
  }

  /** No pass queued or running. */
  get idle(): boolean {
    return this.state === 'idle';
  }

  /** Asks for a pass; passes never overlap, and requests during one cause one more. */
  request(): void {
    if (this.state !== 'idle') {
      this.state = 'running_again';
      return;
    }
    this.state = 'running';
    this.deps.schedule(() => void this.run());
  }

  /** A job entered the queue (or may have): the next pass must list it. */
  noteQueued(): void {
    this.mayHaveRunnable = true;
    this.queuedSince++;
  }

  /** Starts the shared-store poll (nothing to do over a store only this coordinator writes). */
  start(): void {
    if (this.deps.sharedStore) this.schedulePoll();
  }

  stop(): void {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
  }

  /** Offers the best runnable jobs to factories with free slots; never more offers than slots. */
  async dispatchOnce(): Promise<void> {
    for (;;) {
      if (!this.mayHaveRunnable && !this.deps.sharedStore) return;
      const queuedBefore = this.queuedSince;
      this.lastListedAt = Date.now();
      const pass = await dispatchPass(this.context);
      this.offersSincePoll += pass.offered;
      this.deps.races.dispatchLost += pass.lost;
      if (pass.emptied && this.queuedSince === queuedBefore) this.mayHaveRunnable = false;
      if (pass.offered === 0 || pass.listed < pass.limit) return;
    }
  }

  private async run(): Promise<void> {
    try {
      let again: boolean;
      do {
        this.state = 'running';
        await this.dispatchOnce();
        // request() may have flipped the state while the pass was awaiting the store.
        again = (this.state as DispatchLoop['state']) === 'running_again';
      } while (again);
    } catch (err) {
      this.deps.log.error({ err }, 'dispatch pass failed');
    } finally {
      this.state = 'idle';
    }
  }

  /**
   * Another replica's submit reaches us only through the store: poll it. After a poll interval in
   * which we offered work, poll again after SHARED_POLL.minMs; otherwise double the delay up to
   * SHARED_POLL.maxMs. A pass with no free slot costs nothing (dispatchPass returns at once), and
   * when a pass (run for a local event or the reaper's tick) listed the store within the delay, the
   * poll moves to one delay after that pass: the store is never left unread for longer than the delay.
   */
  private schedulePoll(delayMs: number = this.pollDelayMs): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(() => {
      const sinceListed = Date.now() - this.lastListedAt;
      if (sinceListed < this.pollDelayMs) {
        this.schedulePoll(this.pollDelayMs - sinceListed);
        return;
      }
      this.pollDelayMs = this.offersSincePoll > 0 ? SHARED_POLL.minMs : Math.min(this.pollDelayMs * 2, SHARED_POLL.maxMs);
      this.offersSincePoll = 0;
      this.request();
      this.schedulePoll();
    }, delayMs);
    this.pollTimer.unref();
  }
}

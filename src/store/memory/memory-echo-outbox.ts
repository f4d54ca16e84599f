/** The memory provider's echo outbox, with SQLite's semantics (the conformance suite checks both). */
import type { JobEventRecord, JobRecord } from '../../domain/job.js';
import { echoFor, type EchoBacklog, type EchoDelivery, type EchoOutbox, type EchoSettlement, type EchoState } from '../echo-outbox.js';

interface Entry {
  echo: Omit<EchoDelivery, 'claim'>;
  state: EchoState;
  dueAt: number;
  claim: string;
}

export class MemoryEchoOutbox implements EchoOutbox {
  readonly #entries = new Map<string, Entry>();

  /** Call in the same synchronous step that stores `event`; the first record of an event id wins. */
  record(job: JobRecord, event: JobEventRecord): void {
    const echo = echoFor(job, event);
    if (!echo || this.#entries.has(echo.eventId)) return;
    this.#entries.set(echo.eventId, { echo: JSON.parse(JSON.stringify(echo)) as Entry['echo'], state: 'pending', dueAt: echo.createdAt, claim: '' });
  }

  async claimDueEchoes(now: number, limit: number, claimUntil: number, claim: string): Promise<EchoDelivery[]> {
    const due = [...this.#entries.values()]
      .filter((e) => e.state === 'pending' && e.dueAt <= now)
      .sort((a, b) => a.dueAt - b.dueAt || (a.echo.jobId < b.echo.jobId ? -1 : a.echo.jobId > b.echo.jobId ? 1 : a.echo.revision - b.echo.revision))
      .slice(0, Math.max(0, limit));
    return due.map((entry) => {
      entry.dueAt = claimUntil;
      entry.claim = claim;
      return { ...(JSON.parse(JSON.stringify(entry.echo)) as Entry['echo']), claim };
    });
  }

  async settleEcho(delivery: EchoDelivery, settlement: EchoSettlement): Promise<boolean> {
    const entry = this.#entries.get(delivery.eventId);
    if (!entry || entry.state !== 'pending') return settlement.state === 'delivered';
    if (settlement.state === 'delivered') {
      entry.state = 'delivered';
      entry.claim = '';
      return true;
    }
    if (entry.claim !== delivery.claim) return false;
    entry.echo.attempts++;
    entry.claim = '';
    if (settlement.state === 'dead') entry.state = 'dead';
    else entry.dueAt = settlement.dueAt;
    return true;
  }

  async echoBacklog(): Promise<EchoBacklog> {
    const entries = [...this.#entries.values()];
    const pending = entries.filter((e) => e.state === 'pending');
    return {
      pending: pending.length,
      dead: entries.filter((e) => e.state === 'dead').length,
      oldestPendingAt: pending.length ? Math.min(...pending.map((e) => e.echo.createdAt)) : null,
    };
  }
}

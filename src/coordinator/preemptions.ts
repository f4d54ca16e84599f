/**
 * Preemptions in flight: which running job was asked to stop for which waiting job. Kept in memory:
 * after a restart the factory still acks the notice it got, and the ack alone is what requeues the
 * victim. An entry ends when the victim stops running, or after a deadline so a lost notice cannot
 * block the waiting job's next preemption forever.
 */
export class Preemptions {
  private readonly byVictim = new Map<string, { waitingJobId: string; startedAt: number }>();

  constructor(private readonly timeoutMs: number) {}

  start(victimJobId: string, waitingJobId: string, now: number): void {
    this.byVictim.set(victimJobId, { waitingJobId, startedAt: now });
  }

  isVictim(jobId: string): boolean {
    return this.byVictim.has(jobId);
  }

  isPendingFor(waitingJobId: string): boolean {
    for (const entry of this.byVictim.values()) if (entry.waitingJobId === waitingJobId) return true;
    return false;
  }

  /** The victim is no longer running (acked, finished, reaped): the preemption is over. */
  end(victimJobId: string): void {
    this.byVictim.delete(victimJobId);
  }

  expire(now: number): void {
    for (const [victim, entry] of this.byVictim) if (now - entry.startedAt > this.timeoutMs) this.byVictim.delete(victim);
  }

  get size(): number {
    return this.byVictim.size;
  }
}

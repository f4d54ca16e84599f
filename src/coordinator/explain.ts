/** ExplainScore: every connected factory's filters and score for one job, plus its recorded decision. */
import type { Explanation, FilterCheck } from '../domain/scheduler.js';
import { describeDispatchRate } from '../domain/dispatch-rate.js';
import type { AttemptRecord, JobRecord } from '../domain/job.js';
import { concurrencyGate, timeWait, type SchedulingWeights } from '../domain/scheduler.js';
import { candidateOf, type DispatchContext } from './dispatcher.js';

export interface JobExplanation {
  job: JobRecord;
  factories: Explanation[];
  weights: SchedulingWeights;
  unplaceableReason: string;
  lastDecision: AttemptRecord | null;
  /** Why the job is held back whatever the factories (its start time, a back-off), one sentence each. */
  waitingReasons: string[];
  /** When the job may run at the earliest; null when it may run now. */
  notBefore: number | null;
}

export async function explainJob(fleet: Pick<DispatchContext, 'sessions' | 'clock' | 'store' | 'budgets' | 'rates' | 'scheduling'>, job: JobRecord): Promise<JobExplanation> {
  const jobId = job.id;
  const now = fleet.clock.now();
  const factories = fleet.sessions().map((s) => candidateOf(s, fleet.scheduling));
  const runnable = await fleet.store.listRunnable(now, 200);
  const budgetRefusal = fleet.budgets.refusal(job);
  const limit = fleet.rates.limitOf(job.productId);
  const rateRefusal = limit && job.stage === 'queued' ? await fleet.rates.refusal(job.productId, now) : null;
  const rate: FilterCheck | null = limit && { name: 'rate', passed: rateRefusal === null, detail: rateRefusal ?? `within product ${job.productId}'s dispatch rate (${describeDispatchRate(limit)})` };
  const explanations = fleet.scheduling.explain(job, jobId, factories, runnable, now, budgetRefusal, rate);
  const labelFailures = explanations.filter((e) => !e.checks.find((c) => c.name === 'labels')?.passed);
  const unplaceableReason =
    budgetRefusal !== null
      ? budgetRefusal
      : factories.length === 0
      ? 'no factory is connected'
      : labelFailures.length === explanations.length
        ? `no connected factory has the required labels (${labelFailures[0]?.checks.find((c) => c.name === 'labels')?.detail ?? ''})`
        : '';
  const lastDecision = [...job.attempts].reverse().find((a) => a.decision) ?? null;
  const key = job.concurrencyKey;
  const keyWait = key !== undefined && job.stage === 'queued' ? concurrencyGate(await fleet.store.countActiveByConcurrencyKey([key])).refusal(job) : null;
  const waitingReasons = [timeWait(job, now), keyWait, rateRefusal].filter((r): r is string => r !== null);
  const notBefore = job.stage === 'queued' && job.notBefore > now ? job.notBefore : null;
  return { job, factories: explanations, weights: fleet.scheduling.weightsFor(job), unplaceableReason, lastDecision, waitingReasons, notBefore };
}

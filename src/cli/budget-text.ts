/** A budget as the budget commands print it, and the protobuf it comes from (loaded when one runs). */
import { toJson, type JsonValue } from '@bufbuild/protobuf';
import { durationMs, timestampDate } from '@bufbuild/protobuf/wkt';

// Named, not `import('@bufbuild/protobuf/wkt')` where it is used (see admin-wire.ts).
export { durationFromMs } from '@bufbuild/protobuf/wkt';
import { BudgetPeriod, BudgetSchema, BudgetState, type Budget } from '../../gen/ts/gigafactory/fleet/v1/budget_pb.js';
import { formatDuration, money } from '../domain/budget.js';

const PERIODS = { day: BudgetPeriod.DAY, week: BudgetPeriod.WEEK, month: BudgetPeriod.MONTH } as const;

export function periodToWire(period: keyof typeof PERIODS): BudgetPeriod {
  return PERIODS[period];
}

export function budgetJson(budget: Budget): JsonValue {
  return toJson(BudgetSchema, budget);
}

export function summary(b: Budget): string {
  const limit = b.costLimit > 0 ? `${money(b.spent)} of ${money(b.costLimit)} per ${periodName(b.period)}` : `${money(b.spent)} spent (no cost limit)`;
  return `${b.productId}\t${stateName(b.state)}\t${limit}${b.stateReason ? `\t${b.stateReason}` : ''}`;
}

export function budgetText(b: Budget): string {
  const lines = [
    `product      ${b.productId}`,
    `state        ${stateName(b.state)}${b.stateReason ? ` (${b.stateReason})` : ''}`,
    `cost limit   ${b.costLimit > 0 ? `${money(b.costLimit)} per ${periodName(b.period)}` : 'none'}`,
    `wall clock   ${b.jobWallClockLimit ? `${formatDuration(durationMs(b.jobWallClockLimit))} per job` : 'none'}`,
    `job ceiling  ${b.jobCostCeiling > 0 ? `${money(b.jobCostCeiling)} per attempt (unless the job sets one)` : 'none'}`,
    `when spent   ${b.stopRunningWhenExhausted ? 'running jobs are stopped' : 'running jobs finish'}`,
    `period       ${b.periodStartTime ? timestampDate(b.periodStartTime).toISOString() : '-'} to ${b.periodEndTime ? timestampDate(b.periodEndTime).toISOString() : '-'}`,
    `spent        ${money(b.spent)} (+${money(b.reserved)} reserved by running jobs)`,
  ];
  if (b.paused) lines.push(`paused       by ${b.pauseActor || '?'}${b.pauseReason ? `: ${b.pauseReason}` : ''}`);
  if (b.updateActor) lines.push(`changed by   ${b.updateActor} (revision ${b.revision})`);
  lines.push('per day:');
  for (const d of b.dailySpend) lines.push(`  ${d.date}  ${money(d.cost)}  (${d.jobCount} attempt${d.jobCount === 1 ? '' : 's'})`);
  if (b.jobSpend.length > 0) lines.push('per job:');
  for (const j of b.jobSpend) lines.push(`  ${j.jobId}  ${money(j.cost)}  ${j.title}`);
  return lines.join('\n');
}

function stateName(state: BudgetState): string {
  return BudgetState[state]?.toLowerCase() ?? 'unknown';
}

function periodName(period: BudgetPeriod): string {
  return BudgetPeriod[period]?.toLowerCase() ?? 'day';
}

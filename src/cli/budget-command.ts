/**
 * `gigafactory budget list|get|set|pause|resume`: a product's cost limit per period, wall-clock
 * limit per job, and pause, through AdminService (get/list: viewer; pause/resume: operator; set: admin).
 */
import { toJson } from '@bufbuild/protobuf';
import { durationFromMs, durationMs, timestampDate } from '@bufbuild/protobuf/wkt';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BudgetPeriod, BudgetSchema, BudgetState, type Budget } from '../../gen/ts/gigafactory/fleet/v1/budget_pb.js';
import { formatDuration, money } from '../domain/budget.js';
import { parseDuration } from './admin-commands.js';
import { adminClient } from './client.js';
import type { ClientSecurity } from './tls.js';
import { print } from './format.js';

const PERIODS = { day: BudgetPeriod.DAY, week: BudgetPeriod.WEEK, month: BudgetPeriod.MONTH } as const;

/** A cost limit: a number, not negative (the coordinator checks the same and names the field). */
function cost(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a cost: use a number >= 0 (0 means no limit)`);
  return n;
}

export function budgetCommand(coordinator: () => string, security: () => ClientSecurity, json: () => boolean): Command {
  const admin = () => adminClient(coordinator(), security());
  const show = (budget: Budget | undefined): void => (json() ? print(toJson(BudgetSchema, budget!)) : print(budgetText(budget!)));

  const budget = new Command('budget').description("a product's budget: cost per period, wall-clock per job, pause");
  budget
    .command('list')
    .description('every product with a budget or spend today')
    .action(async () => {
      const res = await admin().listBudgets({});
      if (json()) return print(res.budgets.map((b) => toJson(BudgetSchema, b)));
      if (res.budgets.length === 0) return print('no budgets');
      for (const b of res.budgets) print(summary(b));
    });
  budget
    .command('get')
    .description("a product's budget, spend this period, per day and per job")
    .argument('<product>')
    .action(async (productId: string) => show((await admin().getBudget({ productId })).budget));
  budget
    .command('set')
    .description("set a product's limits (admin); options left out remove that limit")
    .argument('<product>')
    .option('--cost-limit <n>', 'cost allowed per period, in the unit factories report (0: none)', cost, 0)
    .addOption(new Option('--period <period>', 'the period the cost limit covers (UTC)').choices(Object.keys(PERIODS)).default('day'))
    .option('--job-wall-clock <duration>', 'total running time allowed per job: 90s, 15m, 2h', parseDuration)
    .option('--job-cost-ceiling <n>', 'cost ceiling of a job submitted without one (0: none)', cost, 0)
    .option('--stop-running-when-exhausted', 'stop running jobs when the cost limit is reached (default: they finish)', false)
    .action(async (productId: string, opts: { costLimit: number; period: keyof typeof PERIODS; jobWallClock?: number; jobCostCeiling: number; stopRunningWhenExhausted: boolean }) => {
      const res = await admin().setBudget({
        productId,
        costLimit: opts.costLimit,
        period: PERIODS[opts.period],
        jobWallClockLimit: opts.jobWallClock === undefined ? undefined : durationFromMs(opts.jobWallClock),
        jobCostCeiling: opts.jobCostCeiling,
        stopRunningWhenExhausted: opts.stopRunningWhenExhausted,
      });
      show(res.budget);
    });
  budget
    .command('pause')
    .description("stop dispatching a product's jobs (operator); running jobs finish")
    .argument('<product>')
    .option('--reason <text>', 'shown as the reason of its queued jobs', '')
    .action(async (productId: string, opts: { reason: string }) => show((await admin().pauseBudget({ productId, reason: opts.reason })).budget));
  budget
    .command('resume')
    .description("dispatch a paused product's jobs again (operator)")
    .argument('<product>')
    .action(async (productId: string) => show((await admin().resumeBudget({ productId })).budget));
  return budget;
}

function summary(b: Budget): string {
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

/**
 * `gigafactory budget list|get|set|pause|resume`: a product's cost limit per period, wall-clock
 * limit per job, and pause, through AdminService (get/list: viewer; pause/resume: operator; set: admin).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Budget } from '../../gen/ts/gigafactory/fleet/v1/budget_pb.js';
import { parseDuration } from './admin-commands.js';
import type { ClientSecurity } from './connection-options.js';
import { print } from './format-text.js';

/** The wire side (protobuf, the client, the text of a budget), loaded when an action runs. */
const wire = () => import('./budget-text.js');
const PERIODS = ['day', 'week', 'month'] as const;

/** A cost limit: a number, not negative (the coordinator checks the same and names the field). */
function cost(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a cost: use a number >= 0 (0 means no limit)`);
  return n;
}

export function budgetCommand(coordinator: () => string, security: () => ClientSecurity, json: () => boolean): Command {
  const admin = async () => (await import('./admin-client.js')).adminClient(coordinator(), security());
  const show = async (budget: Budget | undefined): Promise<void> => {
    const { budgetJson, budgetText } = await wire();
    print(json() ? budgetJson(budget!) : budgetText(budget!));
  };

  const budget = new Command('budget').description("a product's budget: cost per period, wall-clock per job, pause");
  budget
    .command('list')
    .description('every product with a budget or spend today')
    .action(async () => {
      const { budgetJson, summary } = await wire();
      const res = await (await admin()).listBudgets({});
      if (json()) return print(res.budgets.map(budgetJson));
      if (res.budgets.length === 0) return print('no budgets');
      for (const b of res.budgets) print(summary(b));
    });
  budget
    .command('get')
    .description("a product's budget, spend this period, per day and per job")
    .argument('<product>')
    .action(async (productId: string) => show((await (await admin()).getBudget({ productId })).budget));
  budget
    .command('set')
    .description("set a product's limits (admin); options left out remove that limit")
    .argument('<product>')
    .option('--cost-limit <n>', 'cost allowed per period, in the unit factories report (0: none)', cost, 0)
    .addOption(new Option('--period <period>', 'the period the cost limit covers (UTC)').choices(PERIODS).default('day'))
    .option('--job-wall-clock <duration>', 'total running time allowed per job: 90s, 15m, 2h', parseDuration)
    .option('--job-cost-ceiling <n>', 'cost ceiling of a job submitted without one (0: none)', cost, 0)
    .option('--stop-running-when-exhausted', 'stop running jobs when the cost limit is reached (default: they finish)', false)
    .action(async (productId: string, opts: { costLimit: number; period: (typeof PERIODS)[number]; jobWallClock?: number; jobCostCeiling: number; stopRunningWhenExhausted: boolean }) => {
      const { periodToWire, durationFromMs } = await wire();
      const res = await (await admin()).setBudget({
        productId,
        costLimit: opts.costLimit,
        period: periodToWire(opts.period),
        jobWallClockLimit: opts.jobWallClock === undefined ? undefined : durationFromMs(opts.jobWallClock),
        jobCostCeiling: opts.jobCostCeiling,
        stopRunningWhenExhausted: opts.stopRunningWhenExhausted,
      });
      await show(res.budget);
    });
  budget
    .command('pause')
    .description("stop dispatching a product's jobs (operator); running jobs finish")
    .argument('<product>')
    .option('--reason <text>', 'shown as the reason of its queued jobs', '')
    .action(async (productId: string, opts: { reason: string }) => show((await (await admin()).pauseBudget({ productId, reason: opts.reason })).budget));
  budget
    .command('resume')
    .description("dispatch a paused product's jobs again (operator)")
    .argument('<product>')
    .action(async (productId: string) => show((await (await admin()).resumeBudget({ productId })).budget));
  return budget;
}

/**
 * AdminService budget RPCs (ListBudgets, GetBudget, SetBudget, PauseBudget, ResumeBudget): wire ↔
 * domain, validation naming the field, and one audit line per change naming who made it.
 */
import { create } from '@bufbuild/protobuf';
import { durationFromMs, durationMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import {
  BudgetDaySchema,
  BudgetJobSpendSchema,
  BudgetPeriod,
  BudgetSchema,
  BudgetState,
  GetBudgetResponseSchema,
  ListBudgetsResponseSchema,
  PauseBudgetResponseSchema,
  ResumeBudgetResponseSchema,
  SetBudgetResponseSchema,
  type Budget,
} from '../../gen/ts/gigafactory/fleet/v1/budget_pb.js';
import type { BudgetView } from '../coordinator/budgets.js';
import type { Fleet } from '../coordinator/fleet.js';
import * as domain from '../domain/budget.js';
import { invalidArgument } from '../domain/errors.js';
import { validateProductId } from '../domain/job-spec.js';
import type { Logger } from '../logging.js';
import { actorOf } from './actor.js';
import { audit as auditLog } from './audit.js';

/** The AdminService methods implemented here. */
export type BudgetAdminMethod = 'listBudgets' | 'getBudget' | 'setBudget' | 'pauseBudget' | 'resumeBudget';

const PERIOD_TO_WIRE: Record<domain.BudgetPeriod, BudgetPeriod> = { day: BudgetPeriod.DAY, week: BudgetPeriod.WEEK, month: BudgetPeriod.MONTH };
const PERIOD_FROM_WIRE = new Map(Object.entries(PERIOD_TO_WIRE).map(([k, v]) => [v, k as domain.BudgetPeriod]));
const STATE_TO_WIRE: Record<domain.BudgetState, BudgetState> = { ok: BudgetState.OK, paused: BudgetState.PAUSED, exhausted: BudgetState.EXHAUSTED };

export function budgetAdminImpl(fleet: Fleet, log: Logger): Pick<ServiceImpl<typeof AdminService>, BudgetAdminMethod> {
  const budgets = fleet.budgets;
  const audit = (ctx: HandlerContext, action: string, productId: string, detail: Record<string, unknown>): void => auditLog(ctx, log, action, { productId, ...detail });
  /** A change can free a product's queued jobs (resume, a higher limit): dispatch at once. */
  const changed = async (productId: string): Promise<Budget> => {
    fleet.requestDispatch();
    return budgetToWire(await budgets.view(productId));
  };
  return {
    async listBudgets() {
      return create(ListBudgetsResponseSchema, { budgets: (await budgets.list()).map(budgetToWire) });
    },

    async getBudget(req) {
      validateProductId(req.productId);
      return create(GetBudgetResponseSchema, { budget: budgetToWire(await budgets.view(req.productId)) });
    },

    async setBudget(req, ctx) {
      validateProductId(req.productId);
      const period = req.period === BudgetPeriod.UNSPECIFIED ? 'day' : PERIOD_FROM_WIRE.get(req.period);
      if (!period) throw invalidArgument(`period ${req.period} is not a known BUDGET_PERIOD_* value`);
      const limits = {
        costLimit: req.costLimit,
        period,
        jobWallClockLimitMs: req.jobWallClockLimit ? durationMs(req.jobWallClockLimit) : null,
        jobCostCeiling: req.jobCostCeiling,
        stopRunningWhenExhausted: req.stopRunningWhenExhausted,
      };
      const checked = domain.setLimits(domain.defaultBudgetConfig(), limits); // refuse bad input before any write
      await budgets.change(req.productId, actorOf(ctx), (current) => domain.setLimits(current, limits));
      audit(ctx, 'budget_set', req.productId, { costLimit: checked.costLimit, period, jobWallClockLimitMs: checked.jobWallClockLimitMs });
      return create(SetBudgetResponseSchema, { budget: await changed(req.productId) });
    },

    async pauseBudget(req, ctx) {
      validateProductId(req.productId);
      const actor = actorOf(ctx);
      await budgets.change(req.productId, actor, (current, now) => domain.pause(current, actor, req.reason, now));
      audit(ctx, 'budget_paused', req.productId, { reason: req.reason });
      return create(PauseBudgetResponseSchema, { budget: await changed(req.productId) });
    },

    async resumeBudget(req, ctx) {
      validateProductId(req.productId);
      await budgets.change(req.productId, actorOf(ctx), (current) => domain.resume(current));
      audit(ctx, 'budget_resumed', req.productId, {});
      return create(ResumeBudgetResponseSchema, { budget: await changed(req.productId) });
    },
  };
}

export function budgetToWire(view: BudgetView): Budget {
  const { config } = view;
  return create(BudgetSchema, {
    productId: view.productId,
    costLimit: config.costLimit,
    period: PERIOD_TO_WIRE[config.period],
    jobWallClockLimit: config.jobWallClockLimitMs === null ? undefined : durationFromMs(config.jobWallClockLimitMs),
    paused: config.paused,
    pauseReason: config.pauseReason,
    pauseActor: config.pausedBy,
    pauseTime: config.pausedAt === null ? undefined : timestampFromMs(config.pausedAt),
    jobCostCeiling: config.jobCostCeiling ?? 0,
    stopRunningWhenExhausted: config.stopRunningWhenExhausted ?? false,
    state: STATE_TO_WIRE[view.state],
    stateReason: view.stateReason,
    spent: view.spent,
    reserved: view.reserved,
    periodStartTime: timestampFromMs(view.periodStart),
    periodEndTime: timestampFromMs(view.periodEnd),
    dailySpend: view.burndown.daily.map((d) => create(BudgetDaySchema, d)),
    jobSpend: view.burndown.jobs.map((j) => create(BudgetJobSpendSchema, j)),
    revision: BigInt(view.revision),
    updateActor: view.updatedBy,
    updateTime: view.updatedAt ? timestampFromMs(view.updatedAt) : undefined,
  });
}

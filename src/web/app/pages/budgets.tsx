/**
 * Budgets: every product with a budget or spend in its period (AdminService.ListBudgets), spend and
 * reservations against the limit, and for the selected product a burndown per day and the spend per
 * job. Operators pause a product (with a reason its queued jobs then show) and resume it; admins
 * set a product's limits (which also adds a product that has none yet). Read again
 * when jobs change (spend is recorded as attempts end) and every 10 s.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { BudgetPeriod, BudgetState, type Budget } from '../../../../gen/ts/gigafactory/fleet/v1/budget_pb.js';
import { burndown } from '../budget-model.js';
import { BudgetForm } from '../components/budget-form.js';
import { BurndownChart } from '../components/burndown-chart.js';
import { GuardedButton } from '../components/guarded.js';
import { ConfirmAction } from '../components/confirm.js';
import { Empty, ErrorBanner, PageHeader, Panel, SuccessNotice, useNow, When } from '../components/ui.js';
import { sentence } from '../errors.js';
import { useJobEvents } from '../events.js';
import { durationOf, formatCost, formatDuration, ms, percent, plural } from '../format.js';
import { useInterval, useLoad } from '../hooks.js';
import { adminService } from '../rpc.js';
import { jobPath, Link, navigate } from '../router.js';

const REFRESH_MS = 10_000;
const JOBS_SHOWN = 12;

const STATES: Record<BudgetState, { label: string; tone: string }> = {
  [BudgetState.UNSPECIFIED]: { label: 'Unknown', tone: 'unknown' },
  [BudgetState.OK]: { label: 'Dispatching', tone: 'online' },
  [BudgetState.PAUSED]: { label: 'Paused', tone: 'draining' },
  [BudgetState.EXHAUSTED]: { label: 'Exhausted', tone: 'exhausted' },
};

const PERIODS: Record<BudgetPeriod, string> = {
  [BudgetPeriod.UNSPECIFIED]: 'day',
  [BudgetPeriod.DAY]: 'day',
  [BudgetPeriod.WEEK]: 'week',
  [BudgetPeriod.MONTH]: 'month',
};

export function BudgetsPage({ product }: { product: string }): JSX.Element {
  const now = useNow(10_000);
  const list = useLoad((signal) => adminService.listBudgets({}, { signal }), [], 'list the budgets');
  useJobEvents(() => list.reloadSoon(), () => list.reload());
  useInterval(() => list.reloadSoon(), REFRESH_MS);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const budgets = list.data?.budgets ?? [];
  const selected = budgets.find((b) => b.productId === product) ?? budgets[0];
  const done = (message: string): void => {
    setNotice(message);
    list.reload();
  };

  return (
    <div class="page">
      <PageHeader
        title="Budgets"
        subtitle={
          budgets.length
            ? `${plural(budgets.length, 'product')} · ${budgets.filter((b) => b.state !== BudgetState.OK).length} not dispatching`
            : 'Spend against each product’s limit. A paused or exhausted product’s queued jobs wait; running jobs finish.'
        }
        actions={
          !editing && (
            <GuardedButton rpc="AdminService/SetBudget" class="button button-primary" onClick={() => setEditing(true)}>
              Set a budget
            </GuardedButton>
          )
        }
      />
      {editing && (
        <BudgetForm
          current={selected}
          onCancel={() => setEditing(false)}
          onSaved={(saved) => {
            setEditing(false);
            navigate(`/budgets?product=${encodeURIComponent(saved.productId)}`, { replace: true });
            done(`${saved.productId}’s budget was saved: ${saved.costLimit > 0 ? `${formatCost(saved.costLimit)} per ${PERIODS[saved.period]}` : 'no cost limit'}.`);
          }}
        />
      )}
      <SuccessNotice message={notice} onDismiss={() => setNotice(null)} />
      <ErrorBanner message={list.error} onRetry={list.reload} />
      <Panel>
        {list.data && !budgets.length ? (
          <Empty title="No product has a budget or spend yet">
            Jobs report what they cost through <code>GIGAFACTORY_COST_FILE</code>; an admin sets a product’s limit with <code>AdminService.SetBudget</code>.
          </Empty>
        ) : (
          <div class="table-wrap table-wrap-menus">
            <table class="table budgets-table">
              <thead>
                <tr>
                  <th>Product</th>
                  <th>State</th>
                  <th class="spend-col">Spent this period</th>
                  <th class="num">Reserved</th>
                  <th class="num">Limit</th>
                  <th>Period ends</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {budgets.map((b) => (
                  <BudgetRow key={b.productId} budget={b} selected={b === selected} now={now} onDone={done} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      {selected && <BudgetDetail budget={selected} now={now} />}
    </div>
  );
}

function BudgetRow({ budget: b, selected, now, onDone }: { budget: Budget; selected: boolean; now: number; onDone: (message: string) => void }): JSX.Element {
  const state = STATES[b.state];
  const href = `/budgets?product=${encodeURIComponent(b.productId)}`;
  return (
    <tr data-product={b.productId} data-state={state.tone} class={selected ? 'row-selected' : undefined}>
      <td class="nowrap">
        <Link href={href} class="strong">{b.productId}</Link>
      </td>
      <td>
        <span class={`pill pill-${state.tone}`} title={b.stateReason || undefined}>
          <span class={`state-dot state-${state.tone}`} />
          {state.label}
        </span>
        {b.stateReason && <div class="muted small budget-reason">{sentence(b.stateReason)}</div>}
      </td>
      <td class="spend-col">
        <SpendMeter budget={b} />
      </td>
      <td class="num">{b.reserved > 0 ? formatCost(b.reserved) : <span class="muted">—</span>}</td>
      <td class="num nowrap">{b.costLimit > 0 ? `${formatCost(b.costLimit)} / ${PERIODS[b.period]}` : <span class="muted">none</span>}</td>
      <td class="nowrap">
        <When at={ms(b.periodEndTime)} now={now} future />
      </td>
      <td>
        <div class="row-actions">
          {b.paused ? (
            <ConfirmAction
              label="Resume"
              rpc="AdminService/ResumeBudget"
              title={`Resume ${b.productId}`}
              description="Its queued jobs may be dispatched again (unless the limit is reached)."
              doing={`resume ${b.productId}`}
              small
              onConfirm={async () => {
                const res = await adminService.resumeBudget({ productId: b.productId });
                onDone(
                  res.budget?.state === BudgetState.EXHAUSTED
                    ? `${b.productId} was resumed, but its limit is reached: its jobs still wait.`
                    : `${b.productId} was resumed: its queued jobs are dispatched again.`,
                );
              }}
            />
          ) : (
            <ConfirmAction
              label="Pause"
              rpc="AdminService/PauseBudget"
              title={`Pause ${b.productId}`}
              description="No new job of this product is dispatched; running jobs finish. Its queued jobs show the reason."
              reasonPlaceholder="Why (required, shown on its queued jobs)"
              reasonRequired="Say why the product is paused: its queued jobs show the reason."
              doing={`pause ${b.productId}`}
              small
              onConfirm={async (reason) => {
                await adminService.pauseBudget({ productId: b.productId, reason });
                onDone(`${b.productId} is paused: its queued jobs wait until it is resumed.`);
              }}
            />
          )}
        </div>
      </td>
    </tr>
  );
}

/** Spent (solid) and reserved (striped) against the limit; without a limit, just the figures. */
function SpendMeter({ budget: b }: { budget: Budget }): JSX.Element {
  if (b.costLimit <= 0) {
    return (
      <div class="spend">
        <span class="strong">{formatCost(b.spent)}</span>
        <span class="muted small"> spent, no limit</span>
      </div>
    );
  }
  const spentPct = Math.min(100, (100 * b.spent) / b.costLimit);
  const reservedPct = Math.min(100 - spentPct, (100 * b.reserved) / b.costLimit);
  const tone = b.spent + b.reserved >= b.costLimit ? 'over' : spentPct >= 80 ? 'near' : 'ok';
  return (
    <div class="spend">
      <div class={`spend-bar spend-${tone}`} role="meter" aria-valuemin={0} aria-valuemax={b.costLimit} aria-valuenow={b.spent} aria-label={`${b.productId} spend against its limit`}>
        <span class="spend-used" style={{ width: `${spentPct}%` }} />
        {reservedPct > 0 && <span class="spend-reserved" style={{ width: `${reservedPct}%` }} />}
      </div>
      <div class="small nowrap">
        <span class="strong">{formatCost(b.spent)}</span>
        <span class="muted"> of {formatCost(b.costLimit)} · {percent(b.spent, b.costLimit)}</span>
      </div>
    </div>
  );
}

function BudgetDetail({ budget: b, now }: { budget: Budget; now: number }): JSX.Element {
  const start = ms(b.periodStartTime) ?? now;
  const end = ms(b.periodEndTime) ?? now;
  const chart = burndown(start, end, b.dailySpend, b.costLimit, now);
  const wallClock = durationOf(b.jobWallClockLimit);
  const jobs = b.jobSpend.slice(0, JOBS_SHOWN);
  const biggest = Math.max(0, ...jobs.map((j) => j.cost));
  return (
    <div class="grid-2" data-budget={b.productId}>
      <Panel
        title={`${b.productId} · this ${PERIODS[b.period]}`}
        class="span-wide"
        aside={
          <span class="muted small">
            {new Date(start).toISOString().slice(0, 10)} to {new Date(end - 1).toISOString().slice(0, 10)} (UTC)
          </span>
        }
      >
        {b.paused && (
          <div class="banner banner-warn" role="status">
            <span>
              Paused by {b.pauseActor || 'an operator'} <When at={ms(b.pauseTime)} now={now} />
              {b.pauseReason ? `: ${b.pauseReason}` : ''}
            </span>
          </div>
        )}
        <div class="budget-figures">
          <Figure label="Spent" value={formatCost(b.spent)} />
          <Figure label="Reserved" value={formatCost(b.reserved)} />
          <Figure label="Left" value={b.costLimit > 0 ? formatCost(Math.max(0, b.costLimit - b.spent - b.reserved)) : 'no limit'} />
          <Figure label="Per-job wall clock" value={wallClock !== null ? formatDuration(wallClock) : 'no limit'} />
        </div>
        <div class="budget-chart">
          <BurndownChart data={chart} productId={b.productId} />
        </div>
      </Panel>
      <Panel title="Spend per job" aside={b.jobSpend.length > JOBS_SHOWN ? <span class="muted small">the {JOBS_SHOWN} largest of {b.jobSpend.length}</span> : null}>
        {jobs.length ? (
          <ul class="job-spend">
            {jobs.map((j) => (
              <li key={j.jobId} data-job-id={j.jobId}>
                <div class="job-spend-head">
                  <Link href={jobPath(j.jobId)} class="job-spend-title">{j.title || j.jobId}</Link>
                  <span class="strong nowrap">{formatCost(j.cost)}</span>
                </div>
                <div class="job-spend-bar">
                  <span style={{ width: `${biggest > 0 ? (100 * j.cost) / biggest : 0}%` }} />
                </div>
              </li>
            ))}
          </ul>
        ) : (
          <Empty title="No job has recorded a cost this period">
            <Link href={`/jobs?product=${encodeURIComponent(b.productId)}`}>See {b.productId}’s jobs</Link>
          </Empty>
        )}
      </Panel>
    </div>
  );
}

function Figure({ label, value }: { label: string; value: string }): JSX.Element {
  return (
    <div class="budget-figure">
      <div class="fact-label">{label}</div>
      <div class="budget-figure-value">{value}</div>
    </div>
  );
}

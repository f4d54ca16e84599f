/**
 * Set a product's budget (AdminService.SetBudget, admin): the cost limit per period (0 removes it),
 * the period, and how long one job may run in total. Pause and resume are separate actions.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { BudgetPeriod, type Budget } from '../../../../gen/ts/gigafactory/fleet/v1/budget_pb.js';
import { describeError } from '../errors.js';
import { durationOf } from '../format.js';
import { adminService } from '../rpc.js';
import { FormActions, Panel } from './ui.js';

export function BudgetForm({ current, onCancel, onSaved }: { current: Budget | undefined; onCancel: () => void; onSaved: (budget: Budget) => void }): JSX.Element {
  const wallClock = durationOf(current?.jobWallClockLimit);
  const [product, setProduct] = useState(current?.productId ?? '');
  const [limit, setLimit] = useState(current?.costLimit ? String(current.costLimit) : '');
  const [period, setPeriod] = useState<BudgetPeriod>(current?.period || BudgetPeriod.DAY);
  const [minutes, setMinutes] = useState(wallClock !== null ? String(wallClock / 60_000) : '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    const costLimit = limit.trim() ? Number(limit) : 0;
    const wallMinutes = minutes.trim() ? Number(minutes) : null;
    if (!product.trim()) return setError('Name the product the budget is for.');
    if (!Number.isFinite(costLimit) || costLimit < 0) return setError('The cost limit must be a number, 0 or more (0 or empty: no limit).');
    if (wallMinutes !== null && !(Number.isFinite(wallMinutes) && wallMinutes > 0)) return setError('The per-job wall clock must be a number of minutes above 0, or empty for no limit.');
    setBusy(true);
    try {
      const res = await adminService.setBudget({
        productId: product.trim(),
        costLimit,
        period,
        jobWallClockLimit: wallMinutes !== null ? durationFromMs(Math.round(wallMinutes * 60_000)) : undefined,
      });
      if (res.budget) onSaved(res.budget);
    } catch (err) {
      setError(describeError(err, 'set the budget'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel title="Set a budget">
      <form class="submit-form" noValidate onSubmit={(e) => void save(e)} aria-label="Set a budget">
        <label class="field">
          <span class="field-label">Product</span>
          <input class="input" name="product" value={product} onInput={(e) => setProduct(e.currentTarget.value)} placeholder="e.g. ml-train" autocomplete="off" />
        </label>
        <label class="field">
          <span class="field-label">Cost limit <span class="optional">optional</span></span>
          <input class="input" name="costLimit" type="number" min={0} step="any" value={limit} onInput={(e) => setLimit(e.currentTarget.value)} placeholder="no limit" />
          <span class="field-hint">In the unit jobs report (dollars, credits).</span>
        </label>
        <label class="field">
          <span class="field-label">Per</span>
          <select class="input" name="period" value={String(period)} onChange={(e) => setPeriod(Number(e.currentTarget.value) as BudgetPeriod)}>
            <option value={String(BudgetPeriod.DAY)}>Day (UTC)</option>
            <option value={String(BudgetPeriod.WEEK)}>Week (Monday, UTC)</option>
            <option value={String(BudgetPeriod.MONTH)}>Month (UTC)</option>
          </select>
        </label>
        <label class="field">
          <span class="field-label">Per-job wall clock <span class="optional">optional</span></span>
          <input class="input" name="wallClockMinutes" type="number" min={0} step="any" value={minutes} onInput={(e) => setMinutes(e.currentTarget.value)} placeholder="no limit" />
          <span class="field-hint">Minutes one job may run over all its attempts.</span>
        </label>
        <FormActions error={error} busy={busy} label="Save budget" busyLabel="Saving…" onCancel={onCancel} />
      </form>
    </Panel>
  );
}

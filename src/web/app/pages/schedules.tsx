/**
 * Schedules: every schedule with its cron and time zone, when it fires next, whether it is paused
 * (and why it waits), and its last run; pause, resume, trigger now and delete (ScheduleService, the
 * same RPCs as `gigafactory schedules`). The create form takes the cron expression, time zone,
 * overlap and catch-up policies and a job template (product, command, labels, priority).
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ScheduleCatchUpPolicy, ScheduleOverlapPolicy, type Schedule } from '../../../../gen/ts/gigafactory/fleet/v1/schedule_pb.js';
import { ConfirmAction } from '../components/confirm.js';
import { GuardedButton } from '../components/guarded.js';
import { Empty, ErrorBanner, FormActions, PageHeader, Panel, SuccessNotice, useNow, When } from '../components/ui.js';
import { describeError } from '../errors.js';
import { ms } from '../format.js';
import { useLoad } from '../hooks.js';
import { parseRequirements, splitCommand } from '../input.js';
import { jobPath, Link } from '../router.js';
import { scheduleService } from '../rpc-schedules.js';

const OVERLAP: [ScheduleOverlapPolicy, string, string][] = [
  [ScheduleOverlapPolicy.SKIP, 'Skip', 'a slot whose previous run has not ended is skipped'],
  [ScheduleOverlapPolicy.QUEUE_ONE, 'Queue one', 'one slot waits for the previous run to end'],
  [ScheduleOverlapPolicy.ALLOW, 'Allow', 'runs may overlap'],
  [ScheduleOverlapPolicy.CANCEL_RUNNING, 'Cancel running', 'the previous run is cancelled'],
];
const CATCH_UP: [ScheduleCatchUpPolicy, string, string][] = [
  [ScheduleCatchUpPolicy.SKIP_MISSED, 'Skip missed', 'slots missed while the coordinator was down are skipped'],
  [ScheduleCatchUpPolicy.RUN_ONCE, 'Run once', 'missed slots run once'],
  [ScheduleCatchUpPolicy.RUN_ALL, 'Run all', 'every missed slot runs (up to the limit)'],
];

const labelOf = <T,>(table: [T, string, string][], value: T): string => table.find(([v]) => v === value)?.[1] ?? '—';

export function SchedulesPage(): JSX.Element {
  const schedules = useLoad((signal) => scheduleService.listSchedules({}, { signal }), [], 'list the schedules');
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const now = useNow(5_000);
  const list = schedules.data?.schedules ?? [];
  const done = (message: string): void => {
    setActionError(null);
    setNotice(message);
    schedules.reload();
  };
  // Pause and resume take one click: a refusal shows above the table. Trigger and delete ask
  // first, and a refusal shows in their confirmation.
  const act = async (doing: string, call: () => Promise<unknown>, message: string): Promise<void> => {
    try {
      await call();
      done(message);
    } catch (err) {
      setActionError(describeError(err, doing));
    }
  };
  return (
    <div class="page">
      <PageHeader
        title="Schedules"
        subtitle="Jobs submitted at the slots of a cron expression, in a time zone."
        actions={
          <GuardedButton rpc="ScheduleService/CreateSchedule" class={`button ${creating ? 'button-secondary' : 'button-primary'}`} onClick={() => setCreating(!creating)} aria-expanded={creating}>
            {creating ? 'Close form' : 'Create schedule'}
          </GuardedButton>
        }
      />
      {creating && (
        <CreateScheduleForm
          onCreated={(s) => {
            setCreating(false);
            setNotice(`${s.name} was created; it fires next ${s.nextFireTime ? new Date(ms(s.nextFireTime)!).toISOString() : 'when resumed'}.`);
            schedules.reload();
          }}
          onClose={() => setCreating(false)}
        />
      )}
      <SuccessNotice message={notice} onDismiss={() => setNotice(null)} />
      <ErrorBanner message={actionError} />
      <Panel>
        <ErrorBanner message={schedules.error} onRetry={schedules.reload} />
        {schedules.data && !list.length ? (
          <Empty title="No schedules yet">Create one above, or with gigafactory schedules create.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table schedules-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Product</th>
                  <th>When</th>
                  <th>Next run</th>
                  <th>Policies</th>
                  <th>Last run</th>
                  <th>State</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((s) => (
                  <tr key={s.scheduleId} data-schedule={s.name} class={s.paused ? 'row-muted' : ''}>
                    <td>
                      <div class="strong">{s.name}</div>
                      <div class="mono small muted">{s.scheduleId}</div>
                    </td>
                    <td>{s.template?.productId}</td>
                    <td>
                      <code>{s.cron}</code> <span class="muted small">{s.timeZone}</span>
                    </td>
                    <td class="nowrap" data-next-fire>
                      {s.paused ? <span class="muted">paused</span> : s.nextFireTime ? <When at={ms(s.nextFireTime)} now={now} future /> : <span class="muted">—</span>}
                      {!s.paused && s.nextFireTime && <div class="muted small">{new Date(ms(s.nextFireTime)!).toISOString()}</div>}
                    </td>
                    <td class="small">
                      {labelOf(OVERLAP, s.overlapPolicy)} · {labelOf(CATCH_UP, s.catchUpPolicy)}
                    </td>
                    <td class="nowrap">{s.lastJobId ? <Link href={jobPath(s.lastJobId)} class="mono small">{s.lastJobId}</Link> : <span class="muted">never</span>}</td>
                    <td>
                      {s.paused ? <span class="text-cancelled">Paused</span> : <span class="text-succeeded">Active</span>}
                      {s.reason && <div class="muted small">{s.reason}</div>}
                    </td>
                    <td class="actions-cell">
                      <ScheduleActions schedule={s} act={act} done={done} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}

type Act = (doing: string, call: () => Promise<unknown>, message: string) => Promise<void>;

function ScheduleActions({ schedule: s, act, done }: { schedule: Schedule; act: Act; done: (message: string) => void }): JSX.Element {
  const id = s.scheduleId;
  return (
    <div class="row-actions">
      {s.paused ? (
        <GuardedButton rpc="ScheduleService/ResumeSchedule" class="button button-small" onClick={() => void act('resume the schedule', () => scheduleService.resumeSchedule({ scheduleId: id }), `${s.name} was resumed.`)}>
          Resume
        </GuardedButton>
      ) : (
        <GuardedButton rpc="ScheduleService/PauseSchedule" class="button button-small" onClick={() => void act('pause the schedule', () => scheduleService.pauseSchedule({ scheduleId: id }), `${s.name} was paused.`)}>
          Pause
        </GuardedButton>
      )}
      <ConfirmAction
        label="Trigger"
        rpc="ScheduleService/TriggerSchedule"
        title={`Trigger ${s.name} now`}
        description="Submits one run now, outside the schedule's slots; its overlap policy does not apply and its next slot stays as it is."
        doing="trigger the schedule"
        small
        onConfirm={async () => {
          const { job } = await scheduleService.triggerSchedule({ scheduleId: id });
          done(`${s.name} was triggered: job ${job?.id ?? ''}.`);
        }}
      />
      <ConfirmAction
        label="Delete"
        rpc="ScheduleService/DeleteSchedule"
        title={`Delete ${s.name}`}
        description="It fires no more. Jobs it already submitted are kept."
        doing="delete the schedule"
        danger
        small
        onConfirm={async () => {
          await scheduleService.deleteSchedule({ scheduleId: id });
          done(`${s.name} was deleted.`);
        }}
      />
    </div>
  );
}

function CreateScheduleForm({ onCreated, onClose }: { onCreated: (s: Schedule) => void; onClose: () => void }): JSX.Element {
  const [name, setName] = useState('');
  const [cron, setCron] = useState('0 3 * * *');
  const [timeZone, setTimeZone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const [overlap, setOverlap] = useState(ScheduleOverlapPolicy.SKIP);
  const [catchUp, setCatchUp] = useState(ScheduleCatchUpPolicy.SKIP_MISSED);
  const [paused, setPaused] = useState(false);
  const [product, setProduct] = useState('');
  const [command, setCommand] = useState('');
  const [labels, setLabels] = useState('');
  const [priority, setPriority] = useState('0');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    let argv: string[];
    let requiredLabels: ReturnType<typeof parseRequirements>;
    try {
      if (!name.trim()) throw new Error('Name the schedule: the name is shown here and in its runs.');
      if (!product.trim()) throw new Error("Name the product the schedule's jobs belong to.");
      argv = splitCommand(command);
      if (!argv.length) throw new Error('Enter the command each run executes, for example: make nightly');
      requiredLabels = parseRequirements(labels);
      if (!/^-?\d+$/.test(priority.trim())) throw new Error('The priority must be a whole number (larger runs first).');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const res = await scheduleService.createSchedule({
        name: name.trim(),
        cron: cron.trim(),
        timeZone: timeZone.trim(),
        overlapPolicy: overlap,
        catchUpPolicy: catchUp,
        paused,
        template: { productId: product.trim(), command: argv, requiredLabels, priority: Number(priority) },
      });
      if (res.schedule) onCreated(res.schedule);
    } catch (err) {
      setError(describeError(err, 'create the schedule'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel title="Create a schedule" class="submit-panel">
      <form class="submit-form" noValidate onSubmit={(e) => void submit(e)} aria-label="Create a schedule">
        <label class="field field-span-2">
          <span class="field-label">Name</span>
          <input class="input" name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="nightly-build" autocomplete="off" />
        </label>
        <label class="field">
          <span class="field-label">Cron</span>
          <input class="input mono" name="cron" value={cron} onInput={(e) => setCron(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
          <span class="field-hint">minute hour day month weekday</span>
        </label>
        <label class="field">
          <span class="field-label">Time zone</span>
          <input class="input" name="timeZone" value={timeZone} onInput={(e) => setTimeZone(e.currentTarget.value)} placeholder="Europe/Berlin" autocomplete="off" />
        </label>
        <label class="field field-span-2">
          <span class="field-label">If the last run is still going</span>
          <select class="input" name="overlap" value={String(overlap)} onChange={(e) => setOverlap(Number(e.currentTarget.value) as ScheduleOverlapPolicy)}>
            {OVERLAP.map(([value, label, hint]) => (
              <option key={value} value={String(value)}>
                {label}: {hint}
              </option>
            ))}
          </select>
        </label>
        <label class="field field-span-2">
          <span class="field-label">Slots missed while down</span>
          <select class="input" name="catchUp" value={String(catchUp)} onChange={(e) => setCatchUp(Number(e.currentTarget.value) as ScheduleCatchUpPolicy)}>
            {CATCH_UP.map(([value, label, hint]) => (
              <option key={value} value={String(value)}>
                {label}: {hint}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span class="field-label">Product</span>
          <input class="input" name="product" value={product} onInput={(e) => setProduct(e.currentTarget.value)} placeholder="e.g. web-shop" autocomplete="off" />
        </label>
        <label class="field field-span-3">
          <span class="field-label">Command</span>
          <input class="input mono" name="command" value={command} onInput={(e) => setCommand(e.currentTarget.value)} placeholder="make nightly" autocomplete="off" spellcheck={false} />
        </label>
        <label class="field field-span-3">
          <span class="field-label">Requires labels <span class="optional">optional</span></span>
          <input class="input mono" name="labels" value={labels} onInput={(e) => setLabels(e.currentTarget.value)} placeholder="os=linux gpu" autocomplete="off" spellcheck={false} />
        </label>
        <label class="field">
          <span class="field-label">Priority</span>
          <input class="input" name="priority" value={priority} onInput={(e) => setPriority(e.currentTarget.value)} inputMode="numeric" />
        </label>
        <FormActions error={error} busy={busy} label="Create schedule" busyLabel="Creating…" onCancel={onClose}>
          <label class="toggle" title="It fires only once resumed">
            <input type="checkbox" name="paused" checked={paused} onChange={(e) => setPaused(e.currentTarget.checked)} />
            Create it paused
          </label>
        </FormActions>
      </form>
    </Panel>
  );
}

/**
 * Overview: the fleet (factories with labels, slots and running jobs), queue depth by product and
 * stage, throughput and failure rate over the last hour, and demand no connected factory can serve.
 * Jobs move with the shared WatchJobs stream; factories and the scaling signal are read again when
 * jobs change (and every 15 s, since a factory can come or go without any job changing).
 */
import type { JSX } from 'preact';
import { durationMs } from '@bufbuild/protobuf/wkt';
import type { Factory } from '../../../../gen/ts/gigafactory/fleet/v1/factory_pb.js';
import { FactoryState } from '../../../../gen/ts/gigafactory/fleet/v1/factory_pb.js';
import { JobStage, type Job } from '../../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { Chips, Empty, ErrorBanner, Meter, PageHeader, Panel, StageBadge, useNow, When } from '../components/ui.js';
import { useJobEvents } from '../events.js';
import { loadFleetModel, type HourSummary, type QueueRow } from '../fleet-model.js';
import { ACTIVE_STAGES, FACTORY_STATES, formatDuration, ms, percent, plural, requirementText, STAGES } from '../format.js';
import { useInterval, useLoad, useThrottledTick } from '../hooks.js';
import { adminService } from '../rpc.js';
import { jobPath, Link } from '../router.js';

const FLEET_REFRESH_MS = 15_000;

export function OverviewPage(): JSX.Element {
  const now = useNow(5_000);
  const model = useLoad((signal) => loadFleetModel(signal), [], 'load the job counts');
  const factories = useLoad((signal) => adminService.listFactories({}, { signal }), [], 'list the factories');
  const scaling = useLoad((signal) => adminService.getScalingSignal({}, { signal }), [], 'read the scaling signal');
  const [, bump] = useThrottledTick(250);

  useJobEvents(
    (event) => {
      if (model.data?.apply(event)) bump();
      factories.reloadSoon();
      scaling.reloadSoon();
    },
    () => {
      model.reload();
      factories.reload();
      scaling.reload();
    },
  );
  useInterval(() => {
    factories.reloadSoon();
    scaling.reloadSoon();
  }, FLEET_REFRESH_MS);

  const fleet = factories.data?.factories ?? [];
  const online = fleet.filter((f) => f.state === FactoryState.CONNECTED).length;
  const draining = fleet.filter((f) => f.state === FactoryState.DRAINING).length;
  const slots = fleet.reduce((n, f) => n + f.slots, 0);
  const used = fleet.reduce((n, f) => n + (f.slots - f.freeSlots), 0);
  const totals = model.data?.stageTotals() ?? {};
  const count = (stage: JobStage): number => totals[stage] ?? 0;
  const hour = model.data?.lastHour(now) ?? null;
  const completed = hour ? hour.succeeded + hour.failed : 0;
  const capped = model.data?.activeCapped ? '+' : '';

  return (
    <div class="page">
      <PageHeader title="Overview" subtitle="The fleet and its work, as it happens." />
      <ErrorBanner message={model.error ?? factories.error ?? scaling.error} onRetry={() => (model.reload(), factories.reload(), scaling.reload())} />

      <div class="stats">
        <Stat label="Factories online" value={factories.data ? String(online) : '…'} detail={draining ? `${draining} draining` : fleet.length ? 'none draining' : 'none connected'} tone={online ? 'ok' : 'warn'} />
        <Stat label="Slots in use" value={factories.data ? `${used} / ${slots}` : '…'} detail={<Meter used={used} total={slots} />} />
        <Stat label="Waiting" value={model.data ? `${count(JobStage.QUEUED) + count(JobStage.BLOCKED)}${capped}` : '…'} detail={`${count(JobStage.QUEUED)} queued · ${count(JobStage.BLOCKED)} blocked`} />
        <Stat label="Running" value={model.data ? `${count(JobStage.RUNNING) + count(JobStage.LEASED)}${capped}` : '…'} detail={`${count(JobStage.LEASED)} being offered`} />
        <Stat label="Finished · 1 h" value={hour ? String(completed) : '…'} detail={hour ? `${hour.succeeded} succeeded · ${hour.failed} failed` : ''} />
        <Stat
          label="Failure rate · 1 h"
          value={hour ? percent(hour.failed, completed) : '…'}
          detail={hour?.cancelled ? `${hour.cancelled} cancelled, not counted` : 'failed or dead of finished'}
          tone={hour && completed && hour.failed / completed > 0.2 ? 'bad' : undefined}
        />
      </div>

      <div class="grid-2">
        <Panel title="Factories" aside={<Link href="/factories" class="link-quiet">All factories →</Link>} class="span-wide">
          {factories.data && !fleet.length ? (
            <Empty title="No factory is connected">Start one with <code>gigafactory agent --coordinator HOST:7070</code>; jobs wait in the queue until one can run them.</Empty>
          ) : (
            <div class="factory-list">
              {fleet.map((f) => (
                <FactoryCard key={f.id} factory={f} jobs={model.data?.active} now={now} />
              ))}
            </div>
          )}
        </Panel>

        <Panel title="Waiting for a kind of factory" aside={scaling.data ? <span class="muted small">{plural(scaling.data.examinedJobs, 'queued job')} examined</span> : null}>
          {scaling.data && !scaling.data.demands.length ? (
            <Empty title="Every queued job fits a connected factory" />
          ) : (
            <ul class="demand-list">
              {scaling.data?.demands.map((d) => (
                <li class="demand" key={d.requirementsKey}>
                  <div class="demand-main">
                    <Chips items={d.requiredLabels.map(requirementText)} empty="no requirements" />
                    <span class="demand-count">{plural(d.queuedJobs, 'job')}</span>
                  </div>
                  <div class="muted small">oldest waiting {d.oldestWait ? formatDuration(durationMs(d.oldestWait)) : '—'}</div>
                </li>
              ))}
            </ul>
          )}
        </Panel>
      </div>

      <div class="grid-2">
        <Panel title="Queue by product" class="span-wide" aside={model.data?.activeCapped ? <span class="muted small">showing the first 5,000 active jobs</span> : null}>
          <QueueTable rows={model.data?.queueByProduct() ?? []} loaded={model.data !== null} />
        </Panel>
        <Panel title="Last hour" aside={model.data?.finishedCapped ? <span class="muted small">from the newest 2,000 finished jobs</span> : null}>
          {hour ? <HourChart hour={hour} /> : <div class="chart-placeholder" />}
        </Panel>
      </div>
    </div>
  );
}

function Stat({ label, value, detail, tone }: { label: string; value: string; detail?: JSX.Element | string; tone?: 'ok' | 'warn' | 'bad' | undefined }): JSX.Element {
  return (
    <div class={`stat${tone ? ` stat-${tone}` : ''}`}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      <div class="stat-detail">{detail}</div>
    </div>
  );
}

function FactoryCard({ factory: f, jobs, now }: { factory: Factory; jobs: Map<string, Job> | undefined; now: number }): JSX.Element {
  const state = FACTORY_STATES[f.state];
  const used = f.slots - f.freeSlots;
  const labels = Object.entries(f.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  return (
    <article class="factory-card" data-factory={f.id}>
      <div class="factory-card-head">
        <span class={`state-dot state-${state.tone}`} title={state.label} />
        <Link href="/factories" class="factory-name">{f.id}</Link>
        <span class={`pill pill-${state.tone}`}>{state.label}</span>
        <span class="factory-slots">
          <Meter used={used} total={f.slots} label={`${f.id} slots in use`} />
          <span class="small">{used}/{f.slots} slots</span>
        </span>
      </div>
      <Chips items={labels} empty="no labels" />
      {f.jobIds.length > 0 ? (
        <ul class="factory-jobs">
          {f.jobIds.map((id) => {
            const job = jobs?.get(id);
            return (
              <li key={id}>
                {job ? <StageBadge stage={job.stage} /> : null}
                <Link href={jobPath(id)} class="factory-job-link">{job?.title || id}</Link>
                {job && <span class="muted small">{job.productId} · started <When at={ms(job.startTime)} now={now} /></span>}
              </li>
            );
          })}
        </ul>
      ) : (
        <div class="muted small factory-idle">Idle · last seen <When at={ms(f.lastSeenTime)} now={now} /></div>
      )}
    </article>
  );
}

function QueueTable({ rows, loaded }: { rows: QueueRow[]; loaded: boolean }): JSX.Element {
  if (loaded && !rows.length) return <Empty title="Nothing is waiting or running" />;
  return (
    <table class="table table-compact">
      <thead>
        <tr>
          <th>Product</th>
          {ACTIVE_STAGES.map((s) => (
            <th class="num" key={s}>{STAGES[s].label}</th>
          ))}
          <th class="num">Total</th>
          <th class="bar-col" />
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.productId}>
            <td class="nowrap">
              <Link href={`/jobs?product=${encodeURIComponent(row.productId)}&stage=active`} class="strong">{row.productId}</Link>
            </td>
            {ACTIVE_STAGES.map((s) => (
              <td class={`num${row.counts[s] ? ` text-${STAGES[s].tone}` : ' muted'}`} key={s}>{row.counts[s] ?? 0}</td>
            ))}
            <td class="num strong">{row.total}</td>
            <td class="bar-col">
              <div class="stack-bar">
                {ACTIVE_STAGES.map((s) =>
                  row.counts[s] ? <span key={s} class={`stack-seg fill-${STAGES[s].tone}`} style={{ flexGrow: row.counts[s] }} title={`${row.counts[s]} ${STAGES[s].label.toLowerCase()}`} /> : null,
                )}
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function HourChart({ hour }: { hour: HourSummary }): JSX.Element {
  const max = Math.max(1, ...hour.buckets.map((b) => b.succeeded + b.failed + b.cancelled));
  const height = 120;
  const barWidth = 100 / hour.buckets.length;
  const bars = hour.buckets.map((b, i) => {
        const parts = [
          { n: b.succeeded, tone: 'succeeded' },
          { n: b.failed, tone: 'failed' },
          { n: b.cancelled, tone: 'cancelled' },
        ];
        let y = height;
        return (
          <g key={i}>
            <title>{`${new Date(b.start).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}: ${b.succeeded} succeeded, ${b.failed} failed, ${b.cancelled} cancelled`}</title>
            <rect x={i * barWidth + barWidth * 0.12} y={0} width={barWidth * 0.76} height={height} class="chart-slot" />
            {parts.map((p) => {
              if (!p.n) return null;
              const h = (p.n / max) * (height - 8);
              y -= h;
              return <rect key={p.tone} x={i * barWidth + barWidth * 0.12} y={y} width={barWidth * 0.76} height={h} class={`fill-${p.tone}`} rx={2} />;
            })}
          </g>
        );
      });
  const completed = hour.succeeded + hour.failed;
  return (
    <div class="hour">
      <div class="hour-figures">
        <div>
          <div class="hour-value">{(completed / 60).toFixed(completed / 60 < 10 ? 1 : 0)}</div>
          <div class="muted small">jobs / minute</div>
        </div>
        <div>
          <div class={`hour-value${hour.failed ? ' text-failed' : ''}`}>{percent(hour.failed, completed)}</div>
          <div class="muted small">failed</div>
        </div>
      </div>
      <svg class="chart" viewBox={`0 0 100 ${height}`} preserveAspectRatio="none" role="img" aria-label="Jobs finished per five minutes over the last hour">
        {bars}
      </svg>
      <div class="chart-axis">
        <span>60 min ago</span>
        <span>30 min</span>
        <span>now</span>
      </div>
      <div class="legend">
        <span><i class="fill-succeeded" />Succeeded {hour.succeeded}</span>
        <span><i class="fill-failed" />Failed {hour.failed}</span>
        <span><i class="fill-cancelled" />Cancelled {hour.cancelled}</span>
      </div>
    </div>
  );
}

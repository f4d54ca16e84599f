/**
 * Jobs: newest first, filtered by product, stage and required label on the server and by text on the
 * loaded page, paged with ListJobs page tokens, and kept current by the shared WatchJobs stream (rows
 * change in place; new jobs appear on the first page). The submit form sits above the table.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { JobStage, type Job } from '../../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { Chips, Empty, ErrorBanner, PageHeader, Panel, Spinner, StageBadge, useNow, When } from '../components/ui.js';
import { SubmitForm } from '../components/submit-form.js';
import { GuardedButton } from '../components/guarded.js';
import { useJobEvents } from '../events.js';
import { ACTIVE_STAGES, ALL_STAGES, commandLine, FINAL_STAGES, formatDuration, ms, plural, requirementText, STAGES } from '../format.js';
import { useLoad } from '../hooks.js';
import { jobService } from '../rpc.js';
import { jobPath, Link, navigate } from '../router.js';

const PAGE_SIZE = 25;

interface Filters {
  product: string;
  stage: string;
  label: string;
  text: string;
}

function stagesFor(stage: string): JobStage[] {
  if (stage === 'active') return [...ACTIVE_STAGES];
  if (stage === 'finished') return [...FINAL_STAGES];
  const match = ALL_STAGES.find((s) => STAGES[s].tone === stage);
  return match ? [match] : [];
}

/** Does a job pass the server-side filters (for jobs that appear through events)? */
function matches(job: Job, f: Filters): boolean {
  if (f.product && job.productId !== f.product) return false;
  const stages = stagesFor(f.stage);
  if (stages.length && !stages.includes(job.stage)) return false;
  if (f.label) {
    const [key, value] = f.label.includes('=') ? [f.label.slice(0, f.label.indexOf('=')), f.label.slice(f.label.indexOf('=') + 1)] : [f.label, undefined];
    if (!job.requiredLabels.some((r) => r.key === key && (value === undefined || r.values.includes(value)))) return false;
  }
  return true;
}

function textMatches(job: Job, text: string): boolean {
  if (!text) return true;
  const needle = text.toLowerCase();
  return [job.id, job.title, job.productId, job.command.join(' '), job.result, job.reason, job.lease?.factoryId ?? ''].some((s) => s.toLowerCase().includes(needle));
}

export function JobsPage({ query }: { query: URLSearchParams }): JSX.Element {
  const filters: Filters = {
    product: query.get('product') ?? '',
    stage: query.get('stage') ?? '',
    label: query.get('label') ?? '',
    text: query.get('q') ?? '',
  };
  const filterKey = `${filters.product}\n${filters.stage}\n${filters.label}`;
  // Page tokens belong to one filter: a new filter starts again at the first page.
  const [paging, setPaging] = useState({ key: filterKey, tokens: [''] });
  const pageTokens = paging.key === filterKey ? paging.tokens : [''];
  const setPageTokens = (tokens: string[]): void => setPaging({ key: filterKey, tokens });
  const pageIndex = pageTokens.length - 1;
  const [rows, setRows] = useState<Job[]>([]);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [showForm, setShowForm] = useState(query.get('new') === '1');
  const now = useNow(5_000);

  const page = useLoad(
    (signal) =>
      jobService.listJobs(
        { productId: filters.product, stages: stagesFor(filters.stage), label: filters.label, pageSize: PAGE_SIZE, pageToken: pageTokens[pageIndex] ?? '' },
        { signal },
      ),
    [filterKey, pageTokens.join(',')],
    'list the jobs',
  );
  useEffect(() => {
    if (page.data) setRows(page.data.jobs);
  }, [page.data]);

  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  useJobEvents(
    (event) => {
      const job = event.job;
      if (!job) return;
      const isNew = pageIndex === 0 && event.fromStage === JobStage.UNSPECIFIED && matches(job, filtersRef.current);
      setRows((current) => {
        const at = current.findIndex((r) => r.id === job.id);
        if (at >= 0) {
          if (current[at]!.revision >= job.revision) return current;
          const next = current.slice();
          next[at] = job;
          return next;
        }
        return isNew ? [job, ...current] : current;
      });
      if (isNew) setFresh((f) => new Set(f).add(job.id));
    },
    () => page.reload(),
  );

  const setFilter = (patch: Partial<Filters>): void => {
    const next = { ...filters, ...patch };
    const params = new URLSearchParams();
    if (next.product) params.set('product', next.product);
    if (next.stage) params.set('stage', next.stage);
    if (next.label) params.set('label', next.label);
    if (next.text) params.set('q', next.text);
    const search = params.toString();
    navigate(`/jobs${search ? `?${search}` : ''}`, { replace: true });
  };

  const visible = rows.filter((job) => textMatches(job, filters.text));
  const filtered = Boolean(filters.product || filters.stage || filters.label || filters.text);

  return (
    <div class="page">
      <PageHeader
        title="Jobs"
        subtitle="Every job, newest first. Changes appear as they happen."
        actions={
          <GuardedButton rpc="JobService/SubmitJob" class={`button ${showForm ? 'button-secondary' : 'button-primary'}`} onClick={() => setShowForm(!showForm)} aria-expanded={showForm}>
            {showForm ? 'Close form' : 'Submit a job'}
          </GuardedButton>
        }
      />
      {showForm && <SubmitForm defaultProduct={filters.product} onCancel={() => setShowForm(false)} />}

      <Panel>
        <div class="filters" role="search">
          <FilterInput label="Product" value={filters.product} placeholder="any product" onChange={(product) => setFilter({ product })} name="product" />
          <label class="field field-inline">
            <span class="field-label">Stage</span>
            <select class="input" name="stage" value={filters.stage} onChange={(e) => setFilter({ stage: e.currentTarget.value })}>
              <option value="">Any stage</option>
              <option value="active">Waiting or running</option>
              <option value="finished">Finished</option>
              {ALL_STAGES.map((s) => (
                <option key={s} value={STAGES[s].tone}>{STAGES[s].label}</option>
              ))}
            </select>
          </label>
          <FilterInput label="Label" value={filters.label} placeholder="key or key=value" onChange={(label) => setFilter({ label })} name="label" />
          <FilterInput label="Search" value={filters.text} placeholder="id, title, command, factory on this page" onChange={(text) => setFilter({ text })} name="q" wide />
          {filtered && (
            <button type="button" class="button button-ghost button-small" onClick={() => navigate('/jobs', { replace: true })}>
              Clear filters
            </button>
          )}
        </div>
        <ErrorBanner message={page.error} onRetry={page.reload} />
        {page.data && !visible.length ? (
          <Empty title={filtered ? 'No job matches these filters' : 'No jobs yet'}>
            {filtered ? 'Change or clear the filters to see more.' : 'Submit one with the button above, the CLI or any gRPC client.'}
          </Empty>
        ) : (
          <div class="table-wrap">
            <table class={`table jobs-table${page.loading && page.data ? ' table-stale' : ''}`}>
              <thead>
                <tr>
                  <th>Job</th>
                  <th>Product</th>
                  <th>Stage</th>
                  <th class="num">Priority</th>
                  <th>Requires</th>
                  <th class="num">Attempts</th>
                  <th>Factory</th>
                  <th>Created</th>
                  <th class="num">Took</th>
                </tr>
              </thead>
              <tbody>
                {visible.map((job) => (
                  <JobRow key={job.id} job={job} now={now} fresh={fresh.has(job.id)} />
                ))}
              </tbody>
            </table>
            {!page.data && page.loading && (
              <div class="table-loading">
                <Spinner /> Loading jobs…
              </div>
            )}
          </div>
        )}
        <footer class="pager">
          <span class="muted small">
            Page {pageIndex + 1}
            {page.loading
              ? ' · loading…'
              : filters.text && rows.length !== visible.length
                ? ` · ${visible.length} of ${rows.length} jobs on this page match “${filters.text}”`
                : ` · ${plural(rows.length, 'job')}`}
          </span>
          <div class="pager-buttons">
            <button type="button" class="button button-secondary button-small" disabled={pageIndex === 0} onClick={() => setPageTokens(pageTokens.slice(0, -1))}>
              ← Newer
            </button>
            <button
              type="button"
              class="button button-secondary button-small"
              disabled={!page.data?.nextPageToken}
              onClick={() => page.data?.nextPageToken && setPageTokens([...pageTokens, page.data.nextPageToken])}
            >
              Older →
            </button>
          </div>
        </footer>
      </Panel>
    </div>
  );
}

function JobRow({ job, now, fresh }: { job: Job; now: number; fresh: boolean }): JSX.Element {
  const start = ms(job.startTime);
  const end = ms(job.endTime);
  const took = start !== null ? (end ?? now) - start : null;
  const factory = job.lease?.factoryId ?? job.attempts.at(-1)?.factoryId ?? '';
  return (
    <tr class={`job-row${fresh ? ' row-fresh' : ''}`} data-job-id={job.id} onClick={(e) => !(e.target as HTMLElement).closest('a') && navigate(jobPath(job.id))}>
      <td class="job-cell">
        <Link href={jobPath(job.id)} class="job-title">{job.title || commandLine(job.command)}</Link>
        <div class="job-id mono">{job.id}</div>
      </td>
      <td class="nowrap">{job.productId}</td>
      <td>
        <StageBadge stage={job.stage} />
        {job.cancelRequestTime && !STAGES[job.stage].final && <div class="muted small">cancelling…</div>}
      </td>
      <td class="num">{job.priority}</td>
      <td>
        <Chips items={job.requiredLabels.map(requirementText)} empty="any factory" />
      </td>
      <td class="num">
        {job.attemptCount}
        <span class="muted">/{job.maxAttempts}</span>
      </td>
      <td class="mono small nowrap">{factory || <span class="muted">—</span>}</td>
      <td class="nowrap">
        <When at={ms(job.createTime)} now={now} />
      </td>
      <td class="num nowrap">{took !== null ? formatDuration(took) : <span class="muted">—</span>}</td>
    </tr>
  );
}

/** A text filter that applies after typing pauses (or on Enter). */
function FilterInput({ label, value, placeholder, onChange, name, wide }: { label: string; value: string; placeholder: string; onChange: (v: string) => void; name: string; wide?: boolean }): JSX.Element {
  const [draft, setDraft] = useState(value);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => setDraft(value), [value]);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  const apply = (text: string): void => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    if (text.trim() !== value) onChange(text.trim());
  };
  return (
    <label class={`field field-inline${wide ? ' field-wide' : ''}`}>
      <span class="field-label">{label}</span>
      <input
        class="input"
        type="search"
        name={name}
        value={draft}
        placeholder={placeholder}
        onInput={(e) => {
          const text = e.currentTarget.value;
          setDraft(text);
          if (timer.current) clearTimeout(timer.current);
          timer.current = setTimeout(() => apply(text), 400);
        }}
        onKeyDown={(e) => e.key === 'Enter' && apply(e.currentTarget.value)}
      />
    </label>
  );
}

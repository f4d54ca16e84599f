/**
 * Jobs: filtered by product, stage, required label and a search over every job (ListJobs query:
 * id, title, command, labels, product), sorted on the server by the column chosen, paged with
 * ListJobs page tokens, and kept current by the shared WatchJobs stream (rows change in place; new
 * jobs appear on the first page of the newest-first order). Rows can be selected to cancel or
 * requeue together. The submit form sits above the table, prefilled when it runs a job again.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { JobStage, type Job } from '../../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobOrder } from '../../../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { Chips, Empty, ErrorBanner, PageHeader, Panel, Spinner, StageBadge, useNow, When } from '../components/ui.js';
import { SubmitForm } from '../components/submit-form.js';
import { GuardedButton } from '../components/guarded.js';
import { BulkActions } from '../components/bulk-actions.js';
import { useJobEvents } from '../events.js';
import { ACTIVE_STAGES, ALL_STAGES, commandLine, FINAL_STAGES, formatDuration, ms, plural, requirementText, runTime, STAGES } from '../format.js';
import { matchesSearch } from '../job-search.js';
import { useLoad } from '../hooks.js';
import { jobService } from '../rpc.js';
import { jobPath, Link, navigate } from '../router.js';

const PAGE_SIZE = 25;

interface Filters {
  product: string;
  stage: string;
  label: string;
  text: string;
  /** A SORTS key; '' is newest first. */
  sort: string;
  /** Smallest first. */
  ascending: boolean;
}

/** The columns the server can sort by (JobOrder), keyed by their name in the URL. */
const SORTS: Record<string, { order: JobOrder; label: string }> = {
  created: { order: JobOrder.CREATE_TIME, label: 'Created' },
  priority: { order: JobOrder.PRIORITY, label: 'Priority' },
  product: { order: JobOrder.PRODUCT, label: 'Product' },
  stage: { order: JobOrder.STAGE, label: 'Stage' },
};

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
  return matchesSearch(job, f.text);
}

export function JobsPage({ query }: { query: URLSearchParams }): JSX.Element {
  const filters: Filters = {
    product: query.get('product') ?? '',
    stage: query.get('stage') ?? '',
    label: query.get('label') ?? '',
    text: query.get('q') ?? '',
    sort: SORTS[query.get('sort') ?? ''] ? query.get('sort')! : '',
    ascending: query.get('dir') === 'asc',
  };
  const newestFirst = (filters.sort === '' || filters.sort === 'created') && !filters.ascending;
  const filterKey = `${filters.product}\n${filters.stage}\n${filters.label}\n${filters.text}\n${filters.sort}\n${filters.ascending}`;
  // Page tokens belong to one filter: a new filter starts again at the first page.
  const [paging, setPaging] = useState({ key: filterKey, tokens: [''] });
  const pageTokens = paging.key === filterKey ? paging.tokens : [''];
  const setPageTokens = (tokens: string[]): void => setPaging({ key: filterKey, tokens });
  const pageIndex = pageTokens.length - 1;
  const [rows, setRows] = useState<Job[]>([]);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [showForm, setShowForm] = useState(query.get('new') === '1');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const runAgain = query.get('from') ?? '';
  const now = useNow(5_000);

  const page = useLoad(
    (signal) =>
      jobService.listJobs(
        {
          productId: filters.product,
          stages: stagesFor(filters.stage),
          label: filters.label,
          query: filters.text,
          orderBy: SORTS[filters.sort]?.order ?? JobOrder.UNSPECIFIED,
          ascending: filters.ascending,
          pageSize: PAGE_SIZE,
          pageToken: pageTokens[pageIndex] ?? '',
        },
        { signal },
      ),
    [filterKey, pageTokens.join(',')],
    'list the jobs',
  );
  useEffect(() => {
    if (page.data) setRows(page.data.jobs);
  }, [page.data]);
  // A selection belongs to the rows it was made on.
  useEffect(() => setSelected(new Set()), [filterKey, pageIndex]);

  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const newestFirstRef = useRef(newestFirst);
  newestFirstRef.current = newestFirst;
  useJobEvents(
    (event) => {
      const job = event.job;
      if (!job) return;
      // A new job belongs at the top only of the newest-first order's first page.
      const isNew = pageIndex === 0 && newestFirstRef.current && event.fromStage === JobStage.UNSPECIFIED && matches(job, filtersRef.current);
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
    if (next.sort) params.set('sort', next.sort);
    if (next.ascending) params.set('dir', 'asc');
    const search = params.toString();
    navigate(`/jobs${search ? `?${search}` : ''}`, { replace: true });
  };

  const filtered = Boolean(filters.product || filters.stage || filters.label || filters.text);
  const chosen = rows.filter((job) => selected.has(job.id));
  const toggle = (id: string): void =>
    setSelected((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const allSelected = rows.length > 0 && rows.every((job) => selected.has(job.id));
  /** Click a column: sort by it, largest first; click it again: the other way. */
  const sortBy = (key: string): void => {
    const current = filters.sort || 'created';
    setFilter(current === key ? { sort: key, ascending: !filters.ascending } : { sort: key, ascending: false });
  };
  const sortHeader = (key: string, cls = ''): JSX.Element => {
    const active = (filters.sort || 'created') === key;
    return (
      <th class={cls} aria-sort={active ? (filters.ascending ? 'ascending' : 'descending') : 'none'}>
        <button type="button" class={`sort-button${active ? ' sort-active' : ''}`} onClick={() => sortBy(key)} name={`sort-${key}`}>
          {SORTS[key]!.label}
          <span class="sort-arrow" aria-hidden="true">{active ? (filters.ascending ? '↑' : '↓') : '↕'}</span>
        </button>
      </th>
    );
  };

  return (
    <div class="page">
      <PageHeader
        title="Jobs"
        subtitle="Every job; click a column to sort. Changes appear as they happen."
        actions={
          <GuardedButton rpc="JobService/SubmitJob" class={`button ${showForm ? 'button-secondary' : 'button-primary'}`} onClick={() => setShowForm(!showForm)} aria-expanded={showForm}>
            {showForm ? 'Close form' : 'Submit a job'}
          </GuardedButton>
        }
      />
      {showForm && <SubmitForm defaultProduct={filters.product} fromJobId={runAgain} onCancel={() => setShowForm(false)} key={runAgain} />}

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
          <FilterInput label="Search" value={filters.text} placeholder="id, title, command, label, product" onChange={(text) => setFilter({ text })} name="q" wide />
          {filtered && (
            <button type="button" class="button button-ghost button-small" onClick={() => setFilter({ product: '', stage: '', label: '', text: '' })}>
              Clear filters
            </button>
          )}
        </div>
        <ErrorBanner message={page.error} onRetry={page.reload} />
        {chosen.length > 0 && <BulkActions jobs={chosen} onDone={() => setSelected(new Set())} />}
        {page.data && !rows.length ? (
          <Empty title={filtered ? 'No job matches these filters' : 'No jobs yet'}>
            {filtered ? 'Change or clear the filters to see more.' : 'Submit one with the button above, the CLI or any gRPC client.'}
          </Empty>
        ) : (
          <div class="table-wrap">
            <table class={`table jobs-table${page.loading && page.data ? ' table-stale' : ''}`}>
              <thead>
                <tr>
                  <th class="select-cell">
                    <input
                      type="checkbox"
                      aria-label="Select every job on this page"
                      checked={allSelected}
                      onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((job) => job.id)))}
                    />
                  </th>
                  <th>Job</th>
                  {sortHeader('product', 'col-product')}
                  {sortHeader('stage')}
                  {sortHeader('priority', 'num col-priority')}
                  <th class="col-requires">Requires</th>
                  <th class="num col-attempts">Attempts</th>
                  <th class="col-factory">Factory</th>
                  {sortHeader('created', 'col-created')}
                  <th class="num" title="Run time: waiting in the queue or for review does not count">Ran</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((job) => (
                  <JobRow key={job.id} job={job} now={now} fresh={fresh.has(job.id)} selected={selected.has(job.id)} onToggle={() => toggle(job.id)} />
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
            {page.loading ? ' · loading…' : ` · ${plural(rows.length, 'job')}${filters.text ? ` matching “${filters.text}”` : ''}`}
          </span>
          <div class="pager-buttons">
            <button type="button" class="button button-secondary button-small" disabled={pageIndex === 0} onClick={() => setPageTokens(pageTokens.slice(0, -1))}>
              {newestFirst ? '← Newer' : '← Previous'}
            </button>
            <button
              type="button"
              class="button button-secondary button-small"
              disabled={!page.data?.nextPageToken}
              onClick={() => page.data?.nextPageToken && setPageTokens([...pageTokens, page.data.nextPageToken])}
            >
              {newestFirst ? 'Older →' : 'Next →'}
            </button>
          </div>
        </footer>
      </Panel>
    </div>
  );
}

function JobRow({ job, now, fresh, selected, onToggle }: { job: Job; now: number; fresh: boolean; selected: boolean; onToggle: () => void }): JSX.Element {
  const took = runTime(job, now);
  const factory = job.lease?.factoryId ?? job.attempts.at(-1)?.factoryId ?? '';
  return (
    <tr
      class={`job-row${fresh ? ' row-fresh' : ''}${selected ? ' row-selected' : ''}`}
      data-job-id={job.id}
      onClick={(e) => !(e.target as HTMLElement).closest('a, input, .select-cell') && navigate(jobPath(job.id))}
    >
      <td class="select-cell">
        <input type="checkbox" aria-label={`Select ${job.id}`} checked={selected} onChange={onToggle} />
      </td>
      <td class="job-cell">
        <Link href={jobPath(job.id)} class="job-title">{job.title || commandLine(job.command)}</Link>
        <div class="job-id mono">{job.id}</div>
      </td>
      <td class="nowrap col-product" title={job.productId}>{job.productId}</td>
      <td>
        <StageBadge stage={job.stage} />
        {job.cancelRequestTime && !STAGES[job.stage].final && <div class="muted small">cancelling…</div>}
      </td>
      <td class="num col-priority">{job.priority}</td>
      <td class="col-requires" title={job.requiredLabels.map(requirementText).join(' ')}>
        <Chips items={job.requiredLabels.map(requirementText)} empty="any factory" />
      </td>
      <td class="num col-attempts">
        {job.attemptCount}
        <span class="muted">/{job.maxAttempts}</span>
      </td>
      <td class="mono small nowrap col-factory">{factory || <span class="muted">—</span>}</td>
      <td class="nowrap col-created">
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

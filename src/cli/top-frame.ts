/**
 * One frame of `gigafactory top` as lines of plain text: a header, the fleet summary, then the
 * panels (queue by product, factories, running jobs), every line cut to the terminal's width (never
 * wrapped) and the panels shortened to fit its height. Pure: the caller decides where the lines go
 * (top-screen.ts for a terminal, stdout as they are otherwise).
 */
import { FactoryState, type Factory } from '../../gen/ts/gigafactory/fleet/v1/factory_pb.js';
import { JobStage, type Job } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { money } from '../domain/budget.js';
import { printable, table } from './format-text.js';
import { ms, type TopModel } from './top-model.js';

export type Panel = 'products' | 'factories' | 'jobs';

export interface FrameView {
  coordinator: string;
  /** How the data is kept current: "live", "snapshot", or what went wrong and when it retries. */
  status: string;
  width: number;
  /** Rows available; null prints every row (a frame for a file or a pipe without LINES). */
  height: number | null;
  /** The one panel shown, when the user focused one (p, f, j). */
  focus: Panel | null;
  /** Only products whose name contains this (/). */
  filter: string;
  /** The filter being typed, while the user types it. */
  editing: string | null;
  /** Whether keys are read, so the header names them. */
  keys: boolean;
}

/** Lines a panel takes besides its rows: its title and its column header. */
const PANEL_CHROME = 2;

export function renderFrame(model: TopModel, now: number, view: FrameView): string[] {
  const head = [headerLine(now, view), ...summaryLines(model, now, view.filter)];
  if (view.editing !== null) head.push(`filter products: ${printable(view.editing)}_   (Enter applies, empty clears, Esc cancels)`);
  else if (view.filter) head.push(`filter: products containing "${printable(view.filter)}"   (/ to change)`);
  const panels = (view.focus ? [view.focus] : (['products', 'factories', 'jobs'] as const)).map((p) => PANELS[p](model, now, view.filter));
  let budgets = panels.map((p) => Math.max(1, p.rows.length));
  if (view.height !== null) {
    // A blank line before each panel, its title and column header, then its share of what is left.
    const rows = view.height - head.length - panels.length * (1 + PANEL_CHROME);
    budgets = allot(Math.max(rows, panels.length), budgets);
  }
  const lines = [...head];
  panels.forEach((panel, i) => lines.push('', ...panelLines(panel, budgets[i]!)));
  return (view.height === null ? lines : lines.slice(0, view.height)).map((line) => fit(line, view.width));
}

/**
 * Shares `available` rows among panels wanting `wants` rows: each gets what it wants or an equal
 * share, whichever is less, and what the small ones leave goes to the large ones.
 */
export function allot(available: number, wants: readonly number[]): number[] {
  const given = wants.map(() => 0);
  let left = available;
  let open = wants.map((_, i) => i).filter((i) => wants[i]! > 0);
  while (left > 0 && open.length > 0) {
    const share = Math.max(1, Math.floor(left / open.length));
    for (const i of open) {
      const take = Math.min(share, wants[i]! - given[i]!, left);
      given[i]! += take;
      left -= take;
    }
    open = open.filter((i) => given[i]! < wants[i]!);
  }
  return given;
}

/** A line no wider than the terminal: cut, with an ellipsis where it was cut. */
export function fit(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

/** A running time or an age: 42s, 3m05s, 2h07m, 3d04h. */
export function span(msLong: number): string {
  const s = Math.max(0, Math.floor(msLong / 1000));
  const two = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

function headerLine(now: number, view: FrameView): string {
  const left = `top · ${view.coordinator} · ${new Date(now).toISOString().slice(11, 19)} UTC · ${view.status}`;
  const right = view.keys ? 'q quit · / filter · p f j focus' : '';
  const gap = view.width - left.length - right.length;
  return right && gap >= 2 ? `${left}${' '.repeat(gap)}${right}` : left;
}

function summaryLines(model: TopModel, now: number, filter: string): string[] {
  const s = model.summary(now, filter);
  return [
    `fleet  ${s.connected} connected, ${s.draining} draining${s.disconnected ? `, ${s.disconnected} disconnected` : ''} · slots ${s.usedSlots}/${s.slots} used`,
    `jobs   ${s.queued} queued, ${s.scheduled} scheduled, ${s.running} running, ${s.failedLastHour} failed in the last hour${model.capped ? ' (at least: too many to load)' : ''}`,
  ];
}

interface PanelText {
  title: string;
  header: string[];
  rows: string[][];
  /** What the panel says when it has no rows. */
  empty: string;
}

/** `budget` rows at most: when they do not all fit, the last one says how many are left out. */
function panelLines(panel: PanelText, budget: number): string[] {
  const title = `${panel.title} (${panel.rows.length})`;
  if (panel.rows.length === 0) return [title, `  ${panel.empty}`];
  const cut = panel.rows.length > budget;
  const shown = panel.rows.slice(0, cut ? Math.max(0, budget - 1) : budget);
  const lines = table(panel.header, shown).split('\n');
  if (cut) lines.push(`… ${panel.rows.length - shown.length} more`);
  return [title, ...lines];
}

const STATE_ORDER: Record<number, number> = { [FactoryState.CONNECTED]: 0, [FactoryState.DRAINING]: 1, [FactoryState.DISCONNECTED]: 2 };

const PANELS: Record<Panel, (model: TopModel, now: number, filter: string) => PanelText> = {
  products: (model, now, filter) => ({
    title: 'QUEUE BY PRODUCT',
    header: ['PRODUCT', 'QUEUED', 'SCHEDULED', 'BLOCKED', 'RUNNING', 'REVIEW', 'FAILED 1H'],
    rows: model.products(now, filter).map((r) => [r.productId, ...[r.queued, r.scheduled, r.blocked, r.running, r.review, r.failedLastHour].map(String)]),
    empty: filter ? 'no product matches the filter' : 'no jobs waiting or running',
  }),
  factories: (model, now) => ({
    title: 'FACTORIES',
    header: ['FACTORY', 'STATE', 'SLOTS', 'SEEN', 'LABELS'],
    rows: [...model.factories]
      .sort((a, b) => (STATE_ORDER[a.state] ?? 3) - (STATE_ORDER[b.state] ?? 3) || a.id.localeCompare(b.id))
      .map((f) => [f.id, stateName(f), `${f.slots - f.freeSlots}/${f.slots}`, seen(f, now), labelsText(f)]),
    empty: 'no factory connected',
  }),
  jobs: (model, now, filter) => ({
    title: 'RUNNING JOBS',
    header: ['JOB', 'PRODUCT', 'FACTORY', 'FOR', 'COST', 'TITLE'],
    rows: model.running(filter).map((j) => [j.id, j.productId, j.lease?.factoryId ?? '-', runningFor(j, now), j.cost > 0 ? money(j.cost) : '-', j.title]),
    empty: filter ? 'no running job matches the filter' : 'no job running',
  }),
};

function stateName(f: Factory): string {
  return (FactoryState[f.state] ?? String(f.state)).toLowerCase();
}

function seen(f: Factory, now: number): string {
  const at = ms(f.lastSeenTime);
  return at === null ? '-' : `${span(now - at)} ago`;
}

function labelsText(f: Factory): string {
  return Object.entries(f.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => (v ? `${k}=${v}` : k))
    .join(',');
}

/** How long the job has run; an offer not yet accepted has not started. */
function runningFor(job: Job, now: number): string {
  const started = ms(job.startTime);
  return job.stage === JobStage.LEASED || started === null ? 'offered' : span(now - started);
}

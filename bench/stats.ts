/**
 * Figures and their presentation: latency histograms (HdrHistogram, microsecond resolution),
 * medians of repeated runs, progress lines on stderr and the aligned table on stdout.
 */
import { build, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  /** Milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** A latency recorder: values in milliseconds in, percentiles in milliseconds out (3 significant digits). */
export class Latency {
  private readonly histogram: Histogram = build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });

  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    const at = (p: number): number => (h.totalCount === 0 ? Number.NaN : h.getValueAtPercentile(p) / 1000);
    return {
      count: h.totalCount,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      max: h.totalCount === 0 ? Number.NaN : h.maxValue / 1000,
      mean: h.totalCount === 0 ? Number.NaN : h.mean / 1000,
    };
  }
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/** The value `p` percent of the samples are at or under (nearest rank), e.g. p90. */
export function percentile(values: readonly number[], p: number): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  return finite[Math.min(finite.length - 1, Math.max(0, Math.ceil((p / 100) * finite.length) - 1))]!;
}

/** Median of each numeric field across runs (the runs share one shape). */
export function medianOf<T extends Record<string, number>>(runs: readonly T[]): T {
  const first = runs[0];
  if (!first) throw new Error('medianOf: no runs');
  const out: Record<string, number> = {};
  for (const key of Object.keys(first)) out[key] = median(runs.map((r) => r[key]!));
  return out as T;
}

/** 1234.5 → "1,235"; small values keep significant digits: 12.345 → "12.3", 1.2345 → "1.23". */
export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const d = digits ?? (abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

export function fmtLatency(s: LatencySummary, keys: readonly ('p50' | 'p90' | 'p99' | 'max')[] = ['p50', 'p90', 'p99', 'max']): string {
  return keys.map((k) => fmt(s[k])).join(' / ');
}

/** An event-loop delay sample (ChildSample.loopDelay) as "p50 / p99 / max". */
export function fmtDelay(d: { p50: number; p99: number; max: number }): string {
  return `${fmt(d.p50)} / ${fmt(d.p99)} / ${fmt(d.max)}`;
}

export type Row = readonly [figure: string, value: string, unit: string, note: string] | { section: string };

/** Renders rows as an aligned table: figure left, value right, unit and note left. */
export function renderTable(title: string, rows: readonly Row[]): string {
  const data = rows.filter((r): r is readonly [string, string, string, string] => Array.isArray(r));
  const header = ['figure', 'value', 'unit', 'how it was measured'] as const;
  const width = (i: number): number => Math.max(header[i]!.length, ...data.map((r) => r[i]!.length));
  const w = [width(0) + 2, width(1), width(2), width(3)];
  const line = (cells: readonly string[]): string =>
    `${cells[0]!.padEnd(w[0]!)}  ${cells[1]!.padStart(w[1]!)}  ${cells[2]!.padEnd(w[2]!)}  ${cells[3]!}`.trimEnd();
  const rule = '─'.repeat(w[0]! + w[1]! + w[2]! + 6 + Math.min(w[3]!, 60));
  const out = [title, rule, line(header), rule];
  for (const row of rows) {
    if (Array.isArray(row)) {
      const [figure, value, unit, note] = row as readonly [string, string, string, string];
      out.push(line([`  ${figure}`, value, unit, note]));
    } else {
      if (out.length > 4) out.push('');
      out.push((row as { section: string }).section);
    }
  }
  out.push(rule);
  return out.join('\n');
}

/** One progress line on stderr (overwritten in place on a terminal). */
export function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
  else process.stderr.write(`${line}\n`);
}

/** Ends an in-place progress line. */
export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
}

/** CPU seconds (user + system) between two process.cpuUsage() readings. */
export function cpuSeconds(from: NodeJS.CpuUsage, to: NodeJS.CpuUsage): number {
  return (to.user - from.user + (to.system - from.system)) / 1e6;
}

/** Display rules shared by every page: stages, times, durations, label requirements. */
import { durationMs, timestampMs, type Duration, type Timestamp } from '@bufbuild/protobuf/wkt';
import { AttemptOutcome, JobStage, LabelOperator, type Job, type LabelRequirement } from '../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { FactoryState } from '../../../gen/ts/gigafactory/fleet/v1/factory_pb.js';

export interface StageInfo {
  label: string;
  /** CSS modifier: stage colours live in styles.css (.stage-queued, ...). */
  tone: string;
  final: boolean;
}

export const STAGES: Record<JobStage, StageInfo> = {
  [JobStage.UNSPECIFIED]: { label: 'Unknown', tone: 'unknown', final: false },
  [JobStage.QUEUED]: { label: 'Queued', tone: 'queued', final: false },
  [JobStage.BLOCKED]: { label: 'Blocked', tone: 'blocked', final: false },
  [JobStage.LEASED]: { label: 'Leased', tone: 'leased', final: false },
  [JobStage.RUNNING]: { label: 'Running', tone: 'running', final: false },
  [JobStage.SUCCEEDED]: { label: 'Succeeded', tone: 'succeeded', final: true },
  [JobStage.FAILED]: { label: 'Failed', tone: 'failed', final: true },
  [JobStage.CANCELLED]: { label: 'Cancelled', tone: 'cancelled', final: true },
  [JobStage.DEAD]: { label: 'Dead', tone: 'dead', final: true },
  [JobStage.AWAITING_REVIEW]: { label: 'Awaiting review', tone: 'blocked', final: false },
  [JobStage.SHIPPED]: { label: 'Shipped', tone: 'succeeded', final: true },
  [JobStage.REJECTED]: { label: 'Rejected', tone: 'failed', final: true },
};

/** Stages a job waits or runs in, in pipeline order. */
export const ACTIVE_STAGES = [JobStage.QUEUED, JobStage.BLOCKED, JobStage.LEASED, JobStage.RUNNING, JobStage.AWAITING_REVIEW] as const;
export const FINAL_STAGES = [JobStage.SUCCEEDED, JobStage.FAILED, JobStage.CANCELLED, JobStage.DEAD, JobStage.SHIPPED, JobStage.REJECTED] as const;
export const ALL_STAGES = [...ACTIVE_STAGES, ...FINAL_STAGES] as const;

/** Stages a job can be requeued from (JobService.RequeueJob). */
export const REQUEUABLE: ReadonlySet<JobStage> = new Set([JobStage.FAILED, JobStage.DEAD, JobStage.CANCELLED, JobStage.REJECTED, JobStage.AWAITING_REVIEW]);

export function isFinal(stage: JobStage): boolean {
  return STAGES[stage].final;
}

export const OUTCOMES: Record<AttemptOutcome, { label: string; tone: string }> = {
  [AttemptOutcome.UNSPECIFIED]: { label: 'In progress', tone: 'running' },
  [AttemptOutcome.SUCCEEDED]: { label: 'Succeeded', tone: 'succeeded' },
  [AttemptOutcome.FAILED]: { label: 'Failed', tone: 'failed' },
  [AttemptOutcome.TIMED_OUT]: { label: 'Timed out', tone: 'failed' },
  [AttemptOutcome.LEASE_EXPIRED]: { label: 'Lease expired', tone: 'dead' },
  [AttemptOutcome.CANCELLED]: { label: 'Cancelled', tone: 'cancelled' },
  [AttemptOutcome.PREEMPTED]: { label: 'Preempted', tone: 'blocked' },
  [AttemptOutcome.RELEASED]: { label: 'Released', tone: 'queued' },
};

export const FACTORY_STATES: Record<FactoryState, { label: string; tone: string }> = {
  [FactoryState.UNSPECIFIED]: { label: 'Unknown', tone: 'unknown' },
  [FactoryState.CONNECTED]: { label: 'Online', tone: 'online' },
  [FactoryState.DRAINING]: { label: 'Draining', tone: 'draining' },
  [FactoryState.DISCONNECTED]: { label: 'Offline', tone: 'offline' },
};

export function ms(ts: Timestamp | undefined): number | null {
  return ts ? timestampMs(ts) : null;
}

export function durationOf(d: Duration | undefined): number | null {
  return d ? durationMs(d) : null;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** "2026-11-10 14:03:22" in the browser's time zone. */
export function absoluteTime(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "14:03:22.517" for log and event lines. */
export function clockTime(at: number): string {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago" (or "in …" for the future). */
export function relativeTime(at: number, now: number): string {
  const delta = now - at;
  const abs = Math.abs(delta);
  if (abs < 5_000) return 'just now';
  const text = abs < 60_000 ? `${Math.round(abs / 1000)} s` : abs < 3_600_000 ? `${Math.floor(abs / 60_000)} min` : abs < 86_400_000 ? `${Math.floor(abs / 3_600_000)} h` : `${Math.floor(abs / 86_400_000)} d`;
  return delta >= 0 ? `${text} ago` : `in ${text}`;
}

/**
 * How long the job's command ran: its attempts' runs added up, the one still running up to `now`.
 * Time in the queue, between attempts and awaiting review is not run time. Null before a start.
 */
export function runTime(job: Job, now: number): number | null {
  let total: number | null = null;
  for (const attempt of job.attempts) {
    const start = ms(attempt.startTime);
    if (start === null) continue;
    total = (total ?? 0) + Math.max(0, (ms(attempt.endTime) ?? now) - start);
  }
  return total;
}

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 10 min", "3 d 4 h". */
export function formatDuration(span: number): string {
  if (span < 1_000) return `${Math.max(0, Math.round(span))} ms`;
  if (span < 60_000) return `${(span / 1000).toFixed(span < 10_000 ? 1 : 0)} s`;
  const s = Math.floor(span / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** The CLI's label syntax: key=value, key=a|b, key!=v, key>=n, key<=n, key, !key. */
export function requirementText(r: LabelRequirement): string {
  switch (r.operator) {
    case LabelOperator.EQUALS:
    case LabelOperator.IN:
      return `${r.key}=${r.values.join('|')}`;
    case LabelOperator.NOT_IN:
      return `${r.key}!=${r.values.join('|')}`;
    case LabelOperator.GREATER_OR_EQUAL:
      return `${r.key}>=${r.values[0] ?? ''}`;
    case LabelOperator.LESS_OR_EQUAL:
      return `${r.key}<=${r.values[0] ?? ''}`;
    case LabelOperator.EXISTS:
      return r.key;
    case LabelOperator.NOT_EXISTS:
      return `!${r.key}`;
    default:
      return `${r.key}?`;
  }
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** A cost in the unit factories report (dollars, credits): "12.50", "0.0042", "1,234". */
export function formatCost(cost: number): string {
  if (cost === 0) return '0';
  const digits = cost >= 1000 ? 0 : cost >= 1 ? 2 : 4;
  return cost.toLocaleString('en-US', { minimumFractionDigits: cost >= 1000 ? 0 : 2, maximumFractionDigits: digits });
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return '—';
  const p = (100 * part) / whole;
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.round(p)}%`;
}

/** A command line as a person would type it (arguments with spaces or quotes are quoted). */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** A byte count for people: B, KiB, MiB, GiB. */
export function formatBytes(n: number | bigint): string {
  const v = Number(n);
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KiB`;
  if (v < 1024 ** 3) return `${(v / 1024 / 1024).toFixed(1)} MiB`;
  return `${(v / 1024 ** 3).toFixed(1)} GiB`;
}

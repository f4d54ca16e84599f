/**
 * The orders and filters the SQLite provider expresses in SQL, written out for in-memory arrays.
 * Text compares by Unicode code point, which is the order SQLite's BINARY collation gives UTF-8
 * (plain `<` on JS strings compares UTF-16 units and differs above U+FFFF).
 */
import type { JobRecord } from '../../domain/job.js';
import type { JobCursor, JobQuery } from '../job-store.js';

export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
  }
  return a.length - b.length;
}

/** listJobs: createdAt desc, then id desc. */
export function newestFirst(a: JobRecord, b: JobRecord): number {
  return b.createdAt - a.createdAt || compareText(b.id, a.id);
}

/** listRunnable: priority desc, then createdAt asc, then id asc. */
export function bestFirst(a: JobRecord, b: JobRecord): number {
  return b.priority - a.priority || a.createdAt - b.createdAt || compareText(a.id, b.id);
}

/** listExpiredLeases: lease expiry asc, then id asc. */
export function soonestExpiryFirst(a: JobRecord, b: JobRecord): number {
  return (a.lease?.expiresAt ?? 0) - (b.lease?.expiresAt ?? 0) || compareText(a.id, b.id);
}

export function byId(a: JobRecord, b: JobRecord): number {
  return compareText(a.id, b.id);
}

export function holdsLease(job: JobRecord): boolean {
  return job.lease !== null && (job.stage === 'leased' || job.stage === 'running');
}

/** Strictly after the cursor in newest-first order. */
function isAfter(job: JobRecord, cursor: JobCursor): boolean {
  return job.createdAt < cursor.createdAt || (job.createdAt === cursor.createdAt && compareText(job.id, cursor.id) < 0);
}

/** The listJobs filter; key and value must meet in one requirement (see sqlite/list-jobs-sql.ts). */
export function matchesQuery(job: JobRecord, query: JobQuery): boolean {
  if (query.productId !== undefined && job.productId !== query.productId) return false;
  if (query.stages !== undefined && query.stages.length > 0 && !query.stages.includes(job.stage)) return false;
  if (query.labelKey !== undefined || query.labelValue !== undefined) {
    const matched = job.requiredLabels.some(
      (r) =>
        (query.labelKey === undefined || r.key === query.labelKey) &&
        (query.labelValue === undefined || r.values.includes(query.labelValue)),
    );
    if (!matched) return false;
  }
  return query.after === undefined || isAfter(job, query.after);
}

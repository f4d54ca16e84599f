/**
 * The orders and filters the SQLite provider expresses in SQL, written out for in-memory arrays.
 * Text compares by Unicode code point, which is the order SQLite's BINARY collation gives UTF-8
 * (plain `<` on JS strings compares UTF-16 units and differs above U+FFFF).
 */
import type { JobRecord } from '../../domain/job.js';
import { matchesSearch, NEWEST_FIRST, orderValue, type JobOrder } from '../../domain/job-search.js';
import type { JobCursor, JobQuery } from '../job-store.js';

export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
  }
  return a.length - b.length;
}

/** listJobs: by the order's field, then createdAt, then id, all ascending or all descending. */
export function inOrder(order: JobOrder = NEWEST_FIRST): (a: JobRecord, b: JobRecord) => number {
  const sign = order.descending ? -1 : 1;
  return (a, b) => sign * compareKeys(keysOf(a, order), keysOf(b, order));
}

/** (value, createdAt, id) for a field other than create time; (createdAt, id) for it. */
function keysOf(job: JobRecord, order: JobOrder): (number | string)[] {
  return order.by === 'created' ? [job.createdAt, job.id] : [orderValue(job, order.by), job.createdAt, job.id];
}

function cursorKeys(cursor: JobCursor, order: JobOrder): (number | string)[] {
  return order.by === 'created' ? [cursor.createdAt, cursor.id] : [cursor.value ?? '', cursor.createdAt, cursor.id];
}

function compareKeys(a: (number | string)[], b: (number | string)[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : compareText(String(x), String(y));
    if (c !== 0) return c;
  }
  return 0;
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

/** Strictly after the cursor in the query's order. */
function isAfter(job: JobRecord, cursor: JobCursor, order: JobOrder = NEWEST_FIRST): boolean {
  const c = compareKeys(keysOf(job, order), cursorKeys(cursor, order));
  return order.descending ? c < 0 : c > 0;
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
  if (query.text !== undefined && !matchesSearch(job, query.text)) return false;
  return query.after === undefined || isAfter(job, query.after, query.order);
}

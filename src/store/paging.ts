/**
 * Paging rules every provider shares, so they agree on odd limits and on when a page has a `next`
 * instead of each doing what its database happens to do (SQLite reads a negative LIMIT as "no
 * limit"; Array.slice would not).
 */
import type { JobRecord } from '../domain/job.js';
import { NEWEST_FIRST, orderValue, type JobOrder } from '../domain/job-search.js';
import type { JobCursor, JobPage } from './job-store.js';

/** A usable row count: fractions round down; zero, negative or NaN mean "nothing"; Infinity means "all". */
export function normalizeLimit(limit: number): number {
  if (Number.isNaN(limit) || limit <= 0) return 0;
  return Math.min(Math.floor(limit), Number.MAX_SAFE_INTEGER);
}

/**
 * Turns up to `limit + 1` jobs, in `order`, into a page. Providers fetch one extra row so `next`
 * is null exactly when nothing follows, and a client paging to the end never makes an empty call.
 */
export function toPage(fetched: JobRecord[], limit: number, order: JobOrder = NEWEST_FIRST): JobPage {
  const jobs = fetched.slice(0, limit);
  const last = jobs.at(-1);
  const more = fetched.length > limit && last !== undefined;
  return { jobs, next: more ? cursorAt(last, order) : null };
}

function cursorAt(job: JobRecord, order: JobOrder): JobCursor {
  const cursor: JobCursor = { createdAt: job.createdAt, id: job.id };
  if (order.by !== 'created') cursor.value = orderValue(job, order.by);
  return cursor;
}

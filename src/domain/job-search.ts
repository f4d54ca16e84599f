/**
 * ListJobs search and order, stated once for every store. Search: a job matches when its id, title,
 * one argument of its command, one label requirement (its key, or "key=value" for each value) or
 * its product contains the needle. Only ASCII letters fold case, because that is what SQLite's
 * lower() does and every provider must agree. Order: one field, then create time, then id, all in
 * the same direction, so a page cursor is (field value, createdAt, id).
 */
import type { JobRecord } from './job.js';

/** Longest search text ListJobs accepts. */
export const MAX_SEARCH_LENGTH = 200;

export const JOB_ORDER_FIELDS = ['created', 'priority', 'product', 'stage'] as const;
export type JobOrderField = (typeof JOB_ORDER_FIELDS)[number];

export interface JobOrder {
  by: JobOrderField;
  descending: boolean;
}

/** Newest first: the order ListJobs had before it could sort, and still its default. */
export const NEWEST_FIRST: JobOrder = { by: 'created', descending: true };

/** A-Z to a-z and nothing else (SQLite's lower()). */
export function foldAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** The strings search looks in. */
export function searchedTexts(job: JobRecord): string[] {
  const labels = job.requiredLabels.flatMap((r) => [r.key, ...r.values.map((v) => `${r.key}=${v}`)]);
  return [job.id, job.title, ...job.command, ...labels, job.productId];
}

/**
 * `needle` already folded (foldAscii). A needle never holds a line break (ListJobs refuses control
 * characters), so a store may keep the texts joined by newlines and search the whole.
 */
export function matchesSearch(job: JobRecord, needle: string): boolean {
  return searchedTexts(job).some((text) => foldAscii(text).includes(needle));
}

/** The value a job sorts by under `by` (createdAt for 'created'). */
export function orderValue(job: JobRecord, by: JobOrderField): number | string {
  switch (by) {
    case 'created':
      return job.createdAt;
    case 'priority':
      return job.priority;
    case 'product':
      return job.productId;
    case 'stage':
      return job.stage;
  }
}

/**
 * Builds the one SELECT that answers a JobQuery. Only the filters the query sets appear in the SQL,
 * so SQLite can pick the product index when there is a product and the created_at index otherwise
 * (an `(? IS NULL OR product_id = ?)` form would hide both from the planner). There are at most 16
 * filter shapes (times the orders), so the store caches one prepared statement per shape.
 *
 * Label filter: a job matches when ONE of its requirements has the key (when labelKey is set) and
 * lists the value among its values (when labelValue is set); key and value must meet in the same
 * requirement. It reads the record's JSON with json_each, so it can never disagree with the record.
 *
 * Search (domain/job-search.ts) and orders other than newest first read every row of the filter
 * (`instr` over lower(), no index): fine for an operator's search, and the common listing keeps
 * its index.
 */
import { NEWEST_FIRST, type JobOrderField } from '../../domain/job-search.js';
import type { JobQuery } from '../job-store.js';

/** The column each order sorts by (created_at then id break ties). */
const ORDER_COLUMNS: Record<JobOrderField, string> = { created: 'created_at', priority: 'priority', product: 'product_id', stage: 'stage' };

export interface ListJobsSql {
  sql: string;
  params: Record<string, string | number>;
}

/** `limit` is the number of rows to fetch (the caller asks for one more than a page to detect "more"). */
export function listJobsSql(query: JobQuery, limit: number): ListJobsSql {
  const where: string[] = [];
  const params: Record<string, string | number> = { limit };
  if (query.productId !== undefined) {
    where.push('product_id = @productId');
    params.productId = query.productId;
  }
  if (query.stages !== undefined && query.stages.length > 0) {
    where.push('stage IN (SELECT value FROM json_each(@stages))');
    params.stages = JSON.stringify(query.stages);
  }
  if (query.labelKey !== undefined || query.labelValue !== undefined) {
    where.push(labelCondition(query, params));
  }
  if (query.text !== undefined) {
    where.push(SEARCH_CONDITION);
    params.text = query.text;
  }
  const order = query.order ?? NEWEST_FIRST;
  const direction = order.descending ? 'DESC' : 'ASC';
  const columns = order.by === 'created' ? ['created_at', 'id'] : [ORDER_COLUMNS[order.by], 'created_at', 'id'];
  if (query.after !== undefined) {
    const cursor = order.by === 'created' ? ['@afterCreatedAt', '@afterId'] : ['@afterValue', '@afterCreatedAt', '@afterId'];
    where.push(`(${columns.join(', ')}) ${order.descending ? '<' : '>'} (${cursor.join(', ')})`);
    params.afterCreatedAt = query.after.createdAt;
    params.afterId = query.after.id;
    if (order.by !== 'created') params.afterValue = query.after.value ?? '';
  }
  const sql =
    'SELECT doc FROM jobs' +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${columns.map((c) => `${c} ${direction}`).join(', ')} LIMIT @limit`;
  return { sql, params };
}

/** @text is folded already; lower() folds ASCII only, as foldAscii does. */
const SEARCH_CONDITION =
  '(instr(lower(id), @text) > 0' +
  ' OR instr(lower(product_id), @text) > 0' +
  " OR instr(lower(json_extract(doc, '$.title')), @text) > 0" +
  " OR EXISTS (SELECT 1 FROM json_each(jobs.doc, '$.command') AS a WHERE instr(lower(a.value), @text) > 0)" +
  " OR EXISTS (SELECT 1 FROM json_each(jobs.doc, '$.requiredLabels') AS r WHERE instr(lower(json_extract(r.value, '$.key')), @text) > 0" +
  " OR EXISTS (SELECT 1 FROM json_each(r.value, '$.values') AS v WHERE instr(lower(json_extract(r.value, '$.key') || '=' || v.value), @text) > 0)))";

function labelCondition(query: JobQuery, params: Record<string, string | number>): string {
  const inRequirement: string[] = [];
  if (query.labelKey !== undefined) {
    inRequirement.push("json_extract(r.value, '$.key') = @labelKey");
    params.labelKey = query.labelKey;
  }
  if (query.labelValue !== undefined) {
    inRequirement.push("EXISTS (SELECT 1 FROM json_each(r.value, '$.values') AS v WHERE v.value = @labelValue)");
    params.labelValue = query.labelValue;
  }
  return (
    "EXISTS (SELECT 1 FROM json_each(jobs.doc, '$.requiredLabels') AS r" +
    ` WHERE ${inRequirement.join(' AND ')})`
  );
}

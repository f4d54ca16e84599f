/**
 * Builds the one SELECT that answers a JobQuery. Only the filters the query sets appear in the SQL,
 * so SQLite can pick the product index when there is a product and the created_at index otherwise
 * (an `(? IS NULL OR product_id = ?)` form would hide both from the planner). There are at most 16
 * shapes, so the store caches one prepared statement per shape.
 *
 * Label filter: a job matches when ONE of its requirements has the key (when labelKey is set) and
 * lists the value among its values (when labelValue is set); key and value must meet in the same
 * requirement. It reads the record's JSON with json_each, so it can never disagree with the record.
 */
import type { JobQuery } from '../job-store.js';

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
  if (query.after !== undefined) {
    where.push('(created_at, id) < (@afterCreatedAt, @afterId)');
    params.afterCreatedAt = query.after.createdAt;
    params.afterId = query.after.id;
  }
  const sql =
    'SELECT doc FROM jobs' +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY created_at DESC, id DESC LIMIT @limit';
  return { sql, params };
}

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

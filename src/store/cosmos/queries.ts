/**
 * Every Cosmos SQL query the provider runs, parameterised, named for what it answers. Single-
 * partition queries still say `c.productId = @productId`: the partition key option routes the
 * query, the predicate keeps it correct on servers that ignore the option (the test server does).
 * The ORDER BY of each query matches a composite index in schema.ts. Search is one CONTAINS on the
 * document's derived searchText (documents.ts), not indexed: it scans what the other filters leave.
 */
import type { SqlQuerySpec } from '@azure/cosmos';
import { NEWEST_FIRST, type JobOrderField } from '../../domain/job-search.js';
import type { JobQuery, LogPosition } from '../job-store.js';
import { labelPair } from './documents.js';

/** The document field each order sorts by (createdAt then jobId break ties); schema.ts indexes each. */
export const ORDER_FIELDS: Record<JobOrderField, string> = { created: 'createdAt', priority: 'priority', product: 'productId', stage: 'stage' };

/** listJobs: in the query's order, only the filters the query sets. Cross-partition unless a product is given. */
export function listJobsQuery(query: JobQuery): SqlQuerySpec {
  const where = ["c.type = 'job'"];
  const parameters: { name: string; value: string | number | string[] }[] = [];
  if (query.productId !== undefined) {
    where.push('c.productId = @productId');
    parameters.push({ name: '@productId', value: query.productId });
  }
  if (query.stages !== undefined && query.stages.length > 0) {
    where.push('ARRAY_CONTAINS(@stages, c.stage)');
    parameters.push({ name: '@stages', value: [...query.stages] });
  }
  if (query.labelKey !== undefined && query.labelValue !== undefined) {
    where.push('ARRAY_CONTAINS(c.labelPairs, @labelPair)');
    parameters.push({ name: '@labelPair', value: labelPair(query.labelKey, query.labelValue) });
  } else if (query.labelKey !== undefined) {
    where.push('ARRAY_CONTAINS(c.labelKeys, @labelKey)');
    parameters.push({ name: '@labelKey', value: query.labelKey });
  } else if (query.labelValue !== undefined) {
    where.push('ARRAY_CONTAINS(c.labelValues, @labelValue)');
    parameters.push({ name: '@labelValue', value: query.labelValue });
  }
  if (query.text !== undefined) {
    where.push('CONTAINS(c.searchText, @text)');
    parameters.push({ name: '@text', value: query.text });
  }
  const order = query.order ?? NEWEST_FIRST;
  const fields = order.by === 'created' ? ['c.createdAt', 'c.jobId'] : [`c.${ORDER_FIELDS[order.by]}`, 'c.createdAt', 'c.jobId'];
  if (query.after !== undefined) {
    const cursor = order.by === 'created' ? ['@afterCreatedAt', '@afterId'] : ['@afterValue', '@afterCreatedAt', '@afterId'];
    where.push(keysetAfter(fields, cursor, order.descending ? '<' : '>'));
    parameters.push({ name: '@afterCreatedAt', value: query.after.createdAt }, { name: '@afterId', value: query.after.id });
    if (order.by !== 'created') parameters.push({ name: '@afterValue', value: query.after.value ?? '' });
  }
  const direction = order.descending ? 'DESC' : 'ASC';
  return { query: `SELECT * FROM c WHERE ${where.join(' AND ')} ORDER BY ${fields.map((f) => `${f} ${direction}`).join(', ')}`, parameters };
}

/** (f1, f2, …) compared with `op` to (p1, p2, …), spelled out: Cosmos SQL has no row values. */
function keysetAfter(fields: string[], cursor: string[], op: '<' | '>'): string {
  const [field, ...restFields] = fields;
  const [param, ...restCursor] = cursor;
  if (!restFields.length) return `${field} ${op} ${param}`;
  return `(${field} ${op} ${param} OR (${field} = ${param} AND ${keysetAfter(restFields, restCursor, op)}))`;
}

/** Queued jobs due by `now`, best first (stage leads the ORDER BY so the composite index serves it). */
export function runnableQuery(now: number): SqlQuerySpec {
  return {
    query:
      "SELECT * FROM c WHERE c.type = 'job' AND c.stage = 'queued' AND c.notBefore <= @now " +
      'ORDER BY c.stage ASC, c.priority DESC, c.createdAt ASC, c.jobId ASC',
    parameters: [{ name: '@now', value: now }],
  };
}

/**
 * The same, restricted to jobs of the given partitions (the ones this replica owns); the same
 * composite index serves the order, `/partition` is a range index.
 */
export function runnableInQuery(partitions: readonly number[], now: number): SqlQuerySpec {
  return {
    query:
      "SELECT * FROM c WHERE c.type = 'job' AND c.stage = 'queued' AND ARRAY_CONTAINS(@partitions, c.partition) AND c.notBefore <= @now " +
      'ORDER BY c.stage ASC, c.priority DESC, c.createdAt ASC, c.jobId ASC',
    parameters: [
      { name: '@partitions', value: [...partitions] },
      { name: '@now', value: now },
    ],
  };
}

/** leaseExpiresAt is set only while a job holds a lease (documents.ts), so no stage term is needed. */
export function expiredLeasesQuery(now: number): SqlQuerySpec {
  return {
    query: "SELECT * FROM c WHERE c.type = 'job' AND c.leaseExpiresAt <= @now ORDER BY c.leaseExpiresAt ASC, c.jobId ASC",
    parameters: [{ name: '@now', value: now }],
  };
}

export function leasedToQuery(factoryId: string): SqlQuerySpec {
  return {
    query: "SELECT * FROM c WHERE c.type = 'job' AND c.leaseFactoryId = @factoryId ORDER BY c.leaseFactoryId ASC, c.jobId ASC",
    parameters: [{ name: '@factoryId', value: factoryId }],
  };
}

/** The concurrency keys of leased and running jobs with one of `keys` (counted by the caller). Cross-partition. */
export function activeByConcurrencyKeyQuery(keys: readonly string[]): SqlQuerySpec {
  return {
    query: "SELECT c.concurrencyKey FROM c WHERE c.type = 'job' AND ARRAY_CONTAINS(@stages, c.stage) AND ARRAY_CONTAINS(@keys, c.concurrencyKey)",
    parameters: [
      { name: '@stages', value: ['leased', 'running'] },
      { name: '@keys', value: [...keys] },
    ],
  };
}

/** One job's log chunks in (epoch, sequence) order, strictly after `after`. Single partition. */
export function logsQuery(productId: string, jobId: string, after: LogPosition | null): SqlQuerySpec {
  const parameters: { name: string; value: string | number }[] = [
    { name: '@productId', value: productId },
    { name: '@jobId', value: jobId },
  ];
  let position = '';
  if (after) {
    position = ' AND (c.epoch > @epoch OR (c.epoch = @epoch AND c.sequence > @sequence))';
    parameters.push({ name: '@epoch', value: after.epoch }, { name: '@sequence', value: after.sequence });
  }
  return {
    query:
      "SELECT * FROM c WHERE c.productId = @productId AND c.type = 'log' AND c.jobId = @jobId" +
      position +
      ' ORDER BY c.jobId ASC, c.epoch ASC, c.sequence ASC',
    parameters,
  };
}

/** Events spilled out of a job document, oldest first. Single partition. */
export function spilledEventsQuery(productId: string, jobId: string): SqlQuerySpec {
  return {
    query:
      "SELECT * FROM c WHERE c.productId = @productId AND c.type = 'event' AND c.jobId = @jobId ORDER BY c.jobId ASC, c.revision ASC",
    parameters: [
      { name: '@productId', value: productId },
      { name: '@jobId', value: jobId },
    ],
  };
}

/**
 * Jobs with a cost recorded at or after `from` (their records only), in one product's partition or
 * across products; the caller picks the attempts within the range out of each record.
 */
export function spendSinceQuery(from: number, productId?: string): SqlQuerySpec {
  const parameters: { name: string; value: string | number }[] = [{ name: '@from', value: from }];
  let product = '';
  if (productId !== undefined) {
    product = ' AND c.productId = @productId';
    parameters.push({ name: '@productId', value: productId });
  }
  return { query: `SELECT c.job FROM c WHERE c.type = 'job' AND c.spendUntil >= @from${product}`, parameters };
}

/** Jobs by product and stage, counted by the server (cross-partition GROUP BY). */
export function countJobsGroupedQuery(): SqlQuerySpec {
  return { query: "SELECT c.productId, c.stage, COUNT(1) AS count FROM c WHERE c.type = 'job' GROUP BY c.productId, c.stage", parameters: [] };
}

/** The same, for servers without GROUP BY: the two fields of every job, counted by the caller. */
export function countJobsProjectionQuery(): SqlQuerySpec {
  return { query: "SELECT c.productId, c.stage FROM c WHERE c.type = 'job'", parameters: [] };
}

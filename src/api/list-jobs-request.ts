/**
 * ListJobsRequest → the store's JobQuery: filters, search text, order and page token, each checked
 * with an error that names the field. The page token is bound to a fingerprint of everything but
 * the page size, so a token reused with another filter, search or order is refused.
 */
import { invalidArgument } from '../domain/errors.js';
import type { JobStage } from '../domain/job.js';
import { foldAscii, MAX_SEARCH_LENGTH, type JobOrder, type JobOrderField } from '../domain/job-search.js';
import { JobOrder as WireJobOrder, type ListJobsRequest } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import type { JobQuery } from '../store/job-store.js';
import { stageFromWire } from './convert.js';
import { decodePageToken, filterFingerprint } from './page-token.js';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

const ORDER_FIELDS: Record<WireJobOrder, JobOrderField> = {
  [WireJobOrder.UNSPECIFIED]: 'created',
  [WireJobOrder.CREATE_TIME]: 'created',
  [WireJobOrder.PRIORITY]: 'priority',
  [WireJobOrder.PRODUCT]: 'product',
  [WireJobOrder.STAGE]: 'stage',
};

export function listQuery(req: ListJobsRequest): { query: JobQuery; fingerprint: string } {
  if (req.pageSize < 0) throw invalidArgument(`page_size ${req.pageSize} must not be negative`);
  if (req.pageSize > MAX_PAGE_SIZE) throw invalidArgument(`page_size ${req.pageSize} is above the maximum of ${MAX_PAGE_SIZE}`);
  const stages = req.stages.map((s, i): JobStage => {
    const stage = stageFromWire(s);
    if (!stage) throw invalidArgument(`stages[${i}] must be a known JOB_STAGE_* value other than UNSPECIFIED`);
    return stage;
  });
  const [labelKey, labelValue] = splitLabel(req.label);
  const text = searchText(req.query);
  const by = ORDER_FIELDS[req.orderBy];
  if (by === undefined) throw invalidArgument(`order_by ${req.orderBy} is not a known JOB_ORDER_* value`);
  const order: JobOrder = { by, descending: !req.ascending };
  // The order joins the fingerprint only when it is not the default, so tokens issued before
  // ListJobs could sort stay valid.
  const filter = { productId: req.productId, stages, labelKey, labelValue, ...(text ? { text } : {}), ...(by !== 'created' || req.ascending ? { order } : {}) };
  const fingerprint = filterFingerprint(filter);
  const query: JobQuery = { limit: req.pageSize || DEFAULT_PAGE_SIZE, order };
  if (req.productId) query.productId = req.productId;
  if (stages.length) query.stages = stages;
  if (labelKey) query.labelKey = labelKey;
  if (labelValue !== undefined) query.labelValue = labelValue;
  if (text) query.text = text;
  if (req.pageToken) query.after = decodePageToken(req.pageToken, fingerprint);
  return { query, fingerprint };
}

function searchText(query: string): string {
  const text = query.trim();
  if (text.length > MAX_SEARCH_LENGTH) throw invalidArgument(`query is ${text.length} characters long; at most ${MAX_SEARCH_LENGTH} are allowed`);
  if (/[\u0000-\u001f\u007f]/.test(text)) throw invalidArgument('query must not contain control characters (line breaks, tabs)');
  return foldAscii(text);
}

function splitLabel(label: string): [string | undefined, string | undefined] {
  if (!label) return [undefined, undefined];
  const eq = label.indexOf('=');
  if (eq === 0) throw invalidArgument(`label "${label}" must be "key" or "key=value"`);
  return eq < 0 ? [label, undefined] : [label.slice(0, eq), label.slice(eq + 1)];
}

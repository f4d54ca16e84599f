/**
 * Tracker items as jobs: what makes an item valid, the job spec it becomes, and what re-ingesting a
 * changed item does to its job. An item maps to one job per product through the idempotency key
 * `tracker:<external id>`, so concurrent ingests of one item store one job.
 */
import { failedPrecondition, invalidArgument } from './errors.js';
import type { JobRecord, JobSpec, LabelRequirement, TrackerLink } from './job.js';
import { renderCommand } from './command-template.js';
import { validateJobSpec } from './job-spec.js';
import { change, type Actor, type JobChange } from './lifecycle.js';

export interface TrackerItem {
  externalId: string;
  title: string;
  productId: string;
  labels: Record<string, string>;
  commandTemplate: string[];
  url: string;
  priority: number;
  requiredLabels: LabelRequirement[];
}

export const TRACKER_LIMITS = {
  maxExternalIdLength: 200,
  maxLabels: 64,
  maxLabelValueLength: 256,
  maxUrlLength: 2_048,
} as const;

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

/** Stages in which an ingested item may still change its job: it has not started. */
const UPDATABLE_STAGES: ReadonlySet<JobRecord['stage']> = new Set(['queued', 'blocked']);

export function trackerIdempotencyKey(externalId: string): string {
  return `tracker:${externalId}`;
}

/** Validates the item and renders its command; throws INVALID_ARGUMENT naming the field. */
export function trackerItemSpec(item: TrackerItem): JobSpec {
  if (!item.externalId.trim()) throw invalidArgument('external_id is required');
  if (item.externalId.length > TRACKER_LIMITS.maxExternalIdLength) {
    throw invalidArgument(`external_id is ${item.externalId.length} characters; at most ${TRACKER_LIMITS.maxExternalIdLength}`);
  }
  validateUrl(item.url);
  validateLabels(item.labels);
  if (item.commandTemplate.length === 0) throw invalidArgument('command_template must have at least one element (the program to run)');
  const tracker: TrackerLink = { externalId: item.externalId, url: item.url, labels: sortedLabels(item.labels) };
  const command = renderCommand(item.commandTemplate, {
    external_id: item.externalId,
    title: item.title,
    url: item.url,
    product: item.productId,
    labels: item.labels,
  });
  return validateJobSpec({
    productId: item.productId,
    title: item.title,
    command,
    env: {},
    requiredLabels: item.requiredLabels,
    priority: item.priority,
    idempotencyKey: trackerIdempotencyKey(item.externalId),
    maxAttempts: 0,
    timeoutMs: 0,
    tracker,
  });
}

/**
 * The change that makes `job` match `spec` (title, command, priority, factory requirements, the
 * item's url and labels), or null when it already does. Throws FAILED_PRECONDITION when it differs
 * but has started or ended: work under way is not rewritten by a tracker edit.
 */
export function updateFromItem(job: JobRecord, spec: JobSpec, now: number, actor: Actor): JobChange | null {
  const wanted: Pick<JobRecord, 'title' | 'command' | 'priority' | 'requiredLabels' | 'tracker'> = {
    title: spec.title,
    command: spec.command,
    priority: spec.priority,
    requiredLabels: spec.requiredLabels,
    ...(spec.tracker ? { tracker: spec.tracker } : {}),
  };
  const current = { title: job.title, command: job.command, priority: job.priority, requiredLabels: job.requiredLabels, tracker: job.tracker };
  const changed = (Object.keys(wanted) as (keyof typeof wanted)[]).filter((k) => JSON.stringify(wanted[k]) !== JSON.stringify(current[k]));
  if (changed.length === 0) return null;
  if (!UPDATABLE_STAGES.has(job.stage)) throw failedPrecondition(`job ${job.id} is ${job.stage}; not updated (it changes only while queued or blocked)`);
  return change(job, now, 'updated', actor, `updated from tracker item ${spec.tracker?.externalId ?? ''}: ${changed.join(', ')}`, wanted);
}

function validateUrl(url: string): void {
  if (!url) return;
  if (url.length > TRACKER_LIMITS.maxUrlLength) throw invalidArgument(`url is ${url.length} characters; at most ${TRACKER_LIMITS.maxUrlLength}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidArgument(`url "${url}" is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidArgument(`url "${url}" must be http or https`);
}

function validateLabels(labels: Record<string, string>): void {
  const keys = Object.keys(labels);
  if (keys.length > TRACKER_LIMITS.maxLabels) throw invalidArgument(`labels has ${keys.length} entries; at most ${TRACKER_LIMITS.maxLabels}`);
  for (const key of keys) {
    if (!LABEL_KEY.test(key)) throw invalidArgument(`labels key "${key}" must be 1-63 characters of letters, digits, ".", "_", "/" or "-"`);
    if (labels[key]!.length > TRACKER_LIMITS.maxLabelValueLength) {
      throw invalidArgument(`labels["${key}"] is ${labels[key]!.length} characters; at most ${TRACKER_LIMITS.maxLabelValueLength}`);
    }
  }
}

/** Labels with their keys in order, so the same labels always compare (and store) the same. */
function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * What makes a submitted job acceptable. Every refusal names the field, so a client can fix its
 * request without reading our source.
 */
import { invalidArgument } from './errors.js';
import type { JobSpec, LabelRequirement } from './job.js';
import { validateWeights } from './scheduler.js';
import { validateCost } from './budget.js';
import { validateInputs } from './job-inputs.js';

export const JOB_LIMITS = {
  defaultMaxAttempts: 3,
  maxMaxAttempts: 100,
  defaultTimeoutMs: 60 * 60_000,
  maxTimeoutMs: 7 * 24 * 60 * 60_000,
  minPriority: -1_000,
  maxPriority: 1_000,
  maxTitleLength: 200,
  maxCommandArgs: 1_024,
  maxCommandBytes: 128 * 1024,
  maxEnvVars: 256,
  maxIdempotencyKeyLength: 256,
  maxLabelRequirements: 64,
  maxDependencies: 100,
  maxJobIdLength: 200,
  /** How far ahead run_at and delay may put a job's start. */
  maxDelayMs: 366 * 24 * 60 * 60_000,
  maxConcurrencyLimit: 10_000,
} as const;

const CONCURRENCY_KEY = /^[A-Za-z0-9._:/-]{1,128}$/;

const PRODUCT_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

/** Fills defaults and checks every field; throws INVALID_ARGUMENT naming the first bad one. */
export function validateJobSpec(input: JobSpec): JobSpec {
  const spec = { ...input };
  validateProductId(spec.productId);
  if (spec.command.length === 0) throw invalidArgument('command must have at least one element (the program to run)');
  if (spec.command[0] === '') throw invalidArgument('command[0] (the program) must not be empty');
  if (spec.command.length > JOB_LIMITS.maxCommandArgs) {
    throw invalidArgument(`command has ${spec.command.length} arguments; at most ${JOB_LIMITS.maxCommandArgs} are allowed`);
  }
  const commandBytes = spec.command.reduce((n, arg) => n + Buffer.byteLength(arg), 0);
  if (commandBytes > JOB_LIMITS.maxCommandBytes) {
    throw invalidArgument(`command is ${commandBytes} bytes; at most ${JOB_LIMITS.maxCommandBytes} are allowed`);
  }
  if (spec.title.length > JOB_LIMITS.maxTitleLength) {
    throw invalidArgument(`title is ${spec.title.length} characters; at most ${JOB_LIMITS.maxTitleLength} are allowed`);
  }
  if (!spec.title) spec.title = spec.command.join(' ').slice(0, JOB_LIMITS.maxTitleLength);
  validateEnv(spec.env);
  spec.requiredLabels.forEach(validateRequirement);
  if (spec.requiredLabels.length > JOB_LIMITS.maxLabelRequirements) {
    throw invalidArgument(`required_labels has ${spec.requiredLabels.length} entries; at most ${JOB_LIMITS.maxLabelRequirements}`);
  }
  if (!Number.isInteger(spec.priority) || spec.priority < JOB_LIMITS.minPriority || spec.priority > JOB_LIMITS.maxPriority) {
    throw invalidArgument(`priority ${spec.priority} must be an integer from ${JOB_LIMITS.minPriority} to ${JOB_LIMITS.maxPriority}`);
  }
  if (spec.idempotencyKey.length > JOB_LIMITS.maxIdempotencyKeyLength) {
    throw invalidArgument(`idempotency_key is ${spec.idempotencyKey.length} characters; at most ${JOB_LIMITS.maxIdempotencyKeyLength}`);
  }
  validateWeights(spec.weights ?? {}, 'weights');
  if (spec.estimatedCost !== undefined) validateCost(spec.estimatedCost, 'estimated_cost');
  if (spec.costCeiling !== undefined) validateCost(spec.costCeiling, 'cost_ceiling');
  if (spec.dependsOn !== undefined) spec.dependsOn = validateDependsOn(spec.dependsOn);
  if (spec.inputs !== undefined) spec.inputs = validateInputs(spec.inputs);
  validateStart(spec);
  validateConcurrency(spec);
  if (spec.maxAttempts === 0) spec.maxAttempts = JOB_LIMITS.defaultMaxAttempts;
  if (!Number.isInteger(spec.maxAttempts) || spec.maxAttempts < 1 || spec.maxAttempts > JOB_LIMITS.maxMaxAttempts) {
    throw invalidArgument(`max_attempts ${spec.maxAttempts} must be from 1 to ${JOB_LIMITS.maxMaxAttempts} (0 means ${JOB_LIMITS.defaultMaxAttempts})`);
  }
  if (spec.timeoutMs === 0) spec.timeoutMs = JOB_LIMITS.defaultTimeoutMs;
  if (!(spec.timeoutMs >= 1_000 && spec.timeoutMs <= JOB_LIMITS.maxTimeoutMs)) {
    throw invalidArgument(`timeout must be from 1s to ${JOB_LIMITS.maxTimeoutMs / 1000}s (unset means 1 hour)`);
  }
  return spec;
}

/** Throws INVALID_ARGUMENT unless `productId` is a valid product id. */
export function validateProductId(productId: string): void {
  if (!productId) throw invalidArgument('product_id is required');
  if (!PRODUCT_ID.test(productId)) {
    throw invalidArgument(`product_id "${productId}" must be 1-63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit`);
  }
}

function validateEnv(env: Record<string, string>): void {
  const names = Object.keys(env);
  if (names.length > JOB_LIMITS.maxEnvVars) {
    throw invalidArgument(`env has ${names.length} variables; at most ${JOB_LIMITS.maxEnvVars}`);
  }
  for (const name of names) {
    if (!ENV_NAME.test(name)) throw invalidArgument(`env name "${name}" must match ${ENV_NAME.source}`);
    if (name.startsWith('GIGAFACTORY_')) throw invalidArgument(`env name "${name}" is reserved (GIGAFACTORY_ prefix)`);
  }
}

function validateRequirement(req: LabelRequirement, index: number): void {
  const where = `required_labels[${index}]`;
  if (!LABEL_KEY.test(req.key)) {
    throw invalidArgument(`${where}.key "${req.key}" must be 1-63 characters of letters, digits, ".", "_", "/" or "-"`);
  }
  switch (req.operator) {
    case 'exists':
    case 'not_exists':
      if (req.values.length !== 0) throw invalidArgument(`${where}: operator ${req.operator} takes no values`);
      return;
    case 'equals':
      if (req.values.length !== 1) throw invalidArgument(`${where}: operator equals takes exactly one value`);
      return;
    case 'in':
    case 'not_in':
      if (req.values.length === 0) throw invalidArgument(`${where}: operator ${req.operator} needs at least one value`);
      return;
    case 'gte':
    case 'lte':
      if (req.values.length !== 1 || !Number.isFinite(Number(req.values[0])) || req.values[0]?.trim() === '') {
        throw invalidArgument(`${where}: operator ${req.operator} takes exactly one numeric value`);
      }
      return;
  }
}

/** Ids only (existence is the coordinator's check): non-empty, bounded, duplicates dropped. */
function validateDependsOn(ids: readonly string[]): string[] {
  ids.forEach((id, i) => {
    if (!id) throw invalidArgument(`depends_on[${i}] must be a job id, not empty`);
    if (id.length > JOB_LIMITS.maxJobIdLength) throw invalidArgument(`depends_on[${i}] is ${id.length} characters; job ids are at most ${JOB_LIMITS.maxJobIdLength}`);
  });
  const unique = [...new Set(ids)];
  if (unique.length > JOB_LIMITS.maxDependencies) {
    throw invalidArgument(`depends_on has ${unique.length} jobs; at most ${JOB_LIMITS.maxDependencies}`);
  }
  return unique;
}

/**
 * Env variables whose values viewers do not see (GetJob, ListJobs, WatchJobs, the web app): names
 * ending in _TOKEN, _SECRET, _KEY or _PASSWORD, or equal to one of those words, in any case.
 * Operators and admins, who can submit jobs anyway, see them.
 */
const SECRET_ENV_NAME = /(^|_)(TOKEN|SECRET|KEY|PASSWORD)$/i;

export const HIDDEN_ENV_VALUE = '(hidden: secret)';

export function isSecretEnvName(name: string): boolean {
  return SECRET_ENV_NAME.test(name);
}

/** The env with every secret-named value replaced by HIDDEN_ENV_VALUE. */
export function hideSecretEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, isSecretEnvName(name) ? HIDDEN_ENV_VALUE : value]));
}

function validateStart(spec: JobSpec): void {
  if (spec.runAt !== undefined && spec.delayMs !== undefined) throw invalidArgument('set at most one of run_at and delay, not both');
  if (spec.delayMs !== undefined && !(spec.delayMs >= 0 && spec.delayMs <= JOB_LIMITS.maxDelayMs)) {
    throw invalidArgument(`delay ${spec.delayMs} ms must be from 0 to ${JOB_LIMITS.maxDelayMs / 86_400_000} days`);
  }
  if (spec.runAt !== undefined && !Number.isFinite(spec.runAt)) throw invalidArgument('run_at must be a valid time');
}

function validateConcurrency(spec: JobSpec): void {
  if (spec.concurrencyKey === undefined) {
    if (spec.concurrencyLimit !== undefined) throw invalidArgument('concurrency_limit needs a concurrency_key');
    return;
  }
  if (!CONCURRENCY_KEY.test(spec.concurrencyKey)) {
    throw invalidArgument(`concurrency_key "${spec.concurrencyKey.slice(0, 40)}" must be 1-128 characters of letters, digits, ".", "_", ":", "/" or "-"`);
  }
  const limit = spec.concurrencyLimit ?? 1;
  if (!Number.isInteger(limit) || limit < 1 || limit > JOB_LIMITS.maxConcurrencyLimit) {
    throw invalidArgument(`concurrency_limit ${limit} must be from 1 to ${JOB_LIMITS.maxConcurrencyLimit} (0 means 1)`);
  }
  spec.concurrencyLimit = limit;
}

/**
 * When a validated spec's job may first run: its run_at (a past one means now) or now + delay;
 * null when it may run at once. A run_at more than maxDelayMs ahead is refused naming the field.
 */
export function requestedStart(spec: JobSpec, now: number): number | null {
  if (spec.delayMs !== undefined) return spec.delayMs > 0 ? now + spec.delayMs : null;
  if (spec.runAt === undefined) return null;
  if (spec.runAt - now > JOB_LIMITS.maxDelayMs) {
    throw invalidArgument(`run_at ${new Date(spec.runAt).toISOString()} is more than ${JOB_LIMITS.maxDelayMs / 86_400_000} days ahead`);
  }
  return spec.runAt > now ? spec.runAt : null;
}

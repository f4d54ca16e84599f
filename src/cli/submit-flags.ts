/**
 * The job flags of `submit`, shared with `schedules create` (whose runs are jobs built from the same
 * template), so both read a job from the command line the same way.
 */
import { create } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import { InvalidArgumentError, type Command } from 'commander';
import { DependencyFailurePolicy } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { SubmitJobRequestSchema, type SubmitJobRequest } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { parseLabelFlag } from './label-flag.js';
import { parseDuration } from './admin-commands.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const integer = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got "${value}"`);
  return n;
};

function instant(value: string): number {
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new InvalidArgumentError(`--run-at "${value}" is not a time like 2026-12-24T18:00:00Z`);
  return at;
}

/** Adds the job's own flags; `delayed` adds --run-at and --delay (not for a schedule's template). */
export function jobOptions(command: Command, { delayed }: { delayed: boolean }): Command {
  command
    .option('--product <id>', 'product the job belongs to', 'default')
    .option('--title <text>', 'one-line title (defaults to the command line)')
    .option('--label <req>', 'required factory label: k=v, k=a|b, k!=v, k>=n, k<=n, k, !k (repeatable)', collect, [])
    .option('--env <K=V>', 'environment variable for the command (repeatable)', collect, [])
    .option('--priority <n>', 'larger runs first', integer('--priority'), 0)
    .option('--max-attempts <n>', 'attempts allowed (default 3)', integer('--max-attempts'))
    .option('--timeout <seconds>', 'wall-clock limit per attempt (default 3600)', integer('--timeout'))
    .option('--require-review', 'on success, wait in awaiting_review for `gigafactory ship` or `reject`', false)
    .option('--estimated-cost <n>', "estimated cost of one attempt, reserved against the product's budget while it runs", Number)
    .option('--concurrency-key <key>', 'at most --concurrency-limit jobs with this key run at once (e.g. deploy-prod)')
    .option('--concurrency-limit <n>', 'how many jobs with the key may run at once (default 1)', integer('--concurrency-limit'));
  if (delayed) {
    command
      .option('--run-at <time>', 'run no earlier than this time (ISO 8601, e.g. 2026-12-24T18:00:00Z)', instant)
      .option('--delay <duration>', 'run no earlier than this long from now: 90s, 15m, 2h, 7d', parseDuration);
  }
  return command;
}

/** The SubmitJobRequest the flags of jobOptions describe. */
export function jobRequestFromFlags(command: string[], opts: Record<string, unknown>): SubmitJobRequest {
  const env = Object.fromEntries(
    ((opts.env as string[] | undefined) ?? []).map((kv) => {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new InvalidArgumentError(`--env "${kv}" must look like NAME=value`);
      return [kv.slice(0, eq), kv.slice(eq + 1)];
    }),
  );
  return create(SubmitJobRequestSchema, {
    productId: opts.product as string,
    title: (opts.title as string | undefined) ?? '',
    command,
    env,
    requiredLabels: ((opts.label as string[] | undefined) ?? []).map(parseLabelFlag),
    priority: opts.priority as number,
    maxAttempts: (opts.maxAttempts as number | undefined) ?? 0,
    timeout: opts.timeout === undefined ? undefined : durationFromMs((opts.timeout as number) * 1000),
    requireReview: Boolean(opts.requireReview),
    estimatedCost: (opts.estimatedCost as number | undefined) ?? 0,
    concurrencyKey: (opts.concurrencyKey as string | undefined) ?? '',
    concurrencyLimit: (opts.concurrencyLimit as number | undefined) ?? 0,
    runAt: opts.runAt === undefined ? undefined : timestampFromMs(opts.runAt as number),
    delay: opts.delay === undefined ? undefined : durationFromMs(opts.delay as number),
    onDependencyFailure: DependencyFailurePolicy.UNSPECIFIED,
  });
}

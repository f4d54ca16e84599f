/**
 * The job flags of `submit`, shared with `schedules create` (whose runs are jobs built from the same
 * template), so both read a job from the command line the same way. Flags only: the request they
 * describe is built in job-request.ts, loaded when a command runs (`--help` loads no protobuf).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from './admin-commands.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const integer = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got "${value}"`);
  return n;
};

/** A whole number the coordinator checks further (0 is sent, and refused there naming the field). */
const notNegative = (name: string) => (value: string): number => {
  const n = integer(name)(value);
  if (n < 0) throw new InvalidArgumentError(`${name} must not be negative, got "${value}"`);
  return n;
};

function instant(value: string): number {
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new InvalidArgumentError(`--run-at "${value}" is not a time like 2026-12-24T18:00:00Z`);
  return at;
}

const envVar = (kv: string, previous: string[]): string[] => {
  if (kv.indexOf('=') <= 0) throw new InvalidArgumentError(`--env "${kv}" must look like NAME=value`);
  return [...previous, kv];
};

/** Adds the job's own flags; `delayed` adds --run-at and --delay (not for a schedule's template). */
export function jobOptions(command: Command, { delayed }: { delayed: boolean }): Command {
  command
    .option('--product <id>', 'product the job belongs to', 'default')
    .option('--title <text>', 'one-line title (defaults to the command line)')
    .option('--label <req>', 'required factory label: k=v, k=a|b, k!=v, k>=n, k<=n, k, !k (repeatable)', collect, [])
    .option('--env <K=V>', 'environment variable for the command (repeatable)', envVar, [])
    .option('--priority <n>', 'larger runs first', integer('--priority'), 0)
    .option('--max-attempts <n>', 'attempts allowed (default 3)', integer('--max-attempts'))
    .option('--timeout <seconds>', 'wall-clock limit per attempt (default 3600)', integer('--timeout'))
    .option('--require-review', 'on success, wait in awaiting_review for `gigafactory ship` or `reject`', false)
    .option('--reviewer <name>', 'who may approve it: an API key name or group:<name> (repeatable; implies --require-review)', collect, [])
    .option('--required-approvals <n>', 'approvals needed before it ships (N of the reviewers; default 1)', notNegative('--required-approvals'))
    .option('--estimated-cost <n>', "estimated cost of one attempt, reserved against the product's budget while it runs", Number)
    .option('--cost-ceiling <n>', 'the most one attempt may cost; it is stopped when its reported cost reaches this', Number)
    .option('--concurrency-key <key>', 'at most --concurrency-limit jobs with this key run at once (e.g. deploy-prod)')
    .option('--concurrency-limit <n>', 'how many jobs with the key may run at once (default 1)', integer('--concurrency-limit'));
  if (delayed) {
    command
      .option('--run-at <time>', 'run no earlier than this time (ISO 8601, e.g. 2026-12-24T18:00:00Z)', instant)
      .option('--delay <duration>', 'run no earlier than this long from now: 90s, 15m, 2h, 7d', parseDuration);
  }
  return command;
}

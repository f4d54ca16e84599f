/**
 * The job commands' flags and help: submit, jobs, job, logs, cancel, ship, reject, requeue, dag.
 * What they do is in job-actions.ts, imported when one runs, so `gigafactory --help` loads neither
 * protobuf nor the gRPC client.
 */
import { Command, Option } from 'commander';
import type { CliContext } from './context.js';
import { integer, jobOptions } from './submit-flags.js';

const actions = () => import('./job-actions.js');

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function jobCommands(ctx: CliContext): Command[] {
  const submit = jobOptions(
    new Command('submit').description('submit a job: gigafactory submit [options] -- CMD ARGS...').argument('<command...>', 'the program and its arguments (put them after --)'),
    { delayed: true },
  )
    .option('--idempotency-key <key>', 'makes retrying this submit safe')
    .option('--depends-on <job-id>', 'wait until this job has succeeded (repeatable)', collect, [])
    .addOption(new Option('--on-dependency-failure <policy>', 'when a dependency fails: cancel this job, or leave it blocked for an operator').choices(['cancel', 'leave-blocked']))
    .option('-w, --wait', "follow the job until its run is over (stage changes on stderr) and exit with its status: the job's exit code, 80 cancelled, 81 dead, 82 rejected", false)
    .action(async (command: string[], opts) => (await actions()).submit(ctx, command, opts));

  const jobs = new Command('jobs')
    .description('list jobs, newest first')
    .option('--product <id>', 'only this product')
    .option('--stage <stage>', 'only this stage: queued, running, succeeded, ... (repeatable)', collect, [])
    .option('--label <key[=value]>', 'only jobs requiring this label')
    .option('--limit <n>', 'page size', integer('--limit'), 50)
    .option('--page-token <token>', 'continue from a previous page')
    .action(async (opts) => (await actions()).listJobs(ctx, opts));

  const job = new Command('job')
    .description('show one job')
    .argument('<id>')
    .action(async (id: string) => (await actions()).showJob(ctx, id));

  const logs = new Command('logs')
    .description("print a job's output, a header line before each attempt")
    .argument('<id>')
    .option('-f, --follow', "keep printing new output until the job ends, then exit with the job's status (as submit --wait)", false)
    .option('--raw', 'only the output bytes, without the attempt headers', false)
    .action(async (id: string, opts) => (await actions()).logs(ctx, id, opts));

  const cancel = new Command('cancel')
    .description('cancel a job that has not finished')
    .argument('<id>')
    .option('--reason <text>', 'recorded on the job', '')
    .action(async (id: string, opts) => (await actions()).cancel(ctx, id, opts.reason));

  const reviews = (
    [
      ['ship', 'ship a job that is awaiting review'],
      ['reject', 'reject a job that is awaiting review (--reason is required)'],
      ['requeue', 'run a failed, dead, cancelled, rejected or awaiting-review job again'],
    ] as const
  ).map(([verb, description]) =>
    new Command(verb)
      .description(description)
      .argument('<id>')
      .option('--reason <text>', 'recorded on the job and its event', '')
      .action(async (id: string, opts) => (await actions()).review(ctx, verb, id, opts.reason)),
  );

  const dag = new Command('dag')
    .description("show a job's graph: what it depends on, what depends on it, its parent and children")
    .argument('<id>')
    .action(async (id: string) => (await actions()).dag(ctx, id));

  return [submit, jobs, job, logs, cancel, ...reviews, dag];
}

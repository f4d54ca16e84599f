/**
 * The `gigafactory` CLI: `serve` runs the coordinator; the other commands are clients of its
 * JobService. Human output by default, `--json` for scripts.
 */
import { toJson, toJsonString } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DependencyFailurePolicy, JobSchema, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { GetDagResponseSchema } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { LogChunkSchema } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { jobClient } from './client.js';
import type { ClientSecurity } from './tls.js';
import { coordinatorOption, tlsOptions } from './connection-options.js';
import { adminCommands } from './admin-commands.js';
import { budgetCommand } from './budget-command.js';
import { schedulesCommand } from './schedules-command.js';
import { dagText, jobDetails, jobsTable, print, stageName } from './format.js';
import { integer, jobOptions, jobRequestFromFlags } from './submit-flags.js';
import { agentCommand } from './agent-command.js';
import { configCommand } from './config-command.js';
import { serveCommand } from './serve.js';
import { ingestCommand } from './ingest-command.js';
import { whoamiCommand } from './whoami-command.js';

const program = new Command('gigafactory')
  .description('Fleet coordinator: jobs to factories over long-lived gRPC streams')
  .addOption(coordinatorOption())
  .option('--json', 'print JSON for scripts instead of human output', false)
  .addOption(new Option('--key <api-key>', 'API key, sent as a bearer token').env('GIGAFACTORY_API_KEY'))
  .showHelpAfterError();
for (const option of tlsOptions()) program.addOption(option);

program.addCommand(serveCommand());
program.addCommand(agentCommand());
program.addCommand(configCommand());
for (const command of adminCommands(() => program.opts().coordinator, () => security(), () => json())) program.addCommand(command);
program.addCommand(budgetCommand(() => program.opts().coordinator, () => security(), () => json()));
program.addCommand(schedulesCommand(() => program.opts().coordinator, () => security(), () => json()));
program.addCommand(ingestCommand(() => program.opts().coordinator, () => security(), () => json()));
program.addCommand(whoamiCommand(() => program.opts().coordinator, () => security(), () => json()));

const collect = (value: string, previous: string[]): string[] => [...previous, value];

jobOptions(
  program
    .command('submit')
    .description('submit a job: gigafactory submit [options] -- CMD ARGS...')
    .argument('<command...>', 'the program and its arguments (put them after --)'),
  { delayed: true },
)
  .option('--idempotency-key <key>', 'makes retrying this submit safe')
  .option('--depends-on <job-id>', 'wait until this job has succeeded (repeatable)', collect, [])
  .addOption(new Option('--on-dependency-failure <policy>', 'when a dependency fails: cancel this job, or leave it blocked for an operator').choices(['cancel', 'leave-blocked']))
  .action(async (command: string[], opts) => {
    const request = jobRequestFromFlags(command, opts);
    request.idempotencyKey = opts.idempotencyKey ?? '';
    request.dependsOn = opts.dependsOn as string[];
    request.onDependencyFailure =
      opts.onDependencyFailure === 'leave-blocked' ? DependencyFailurePolicy.LEAVE_BLOCKED : opts.onDependencyFailure === 'cancel' ? DependencyFailurePolicy.CANCEL_DEPENDENTS : DependencyFailurePolicy.UNSPECIFIED;
    const res = await client().submitJob(request);
    if (json()) return print(toJson(JobSchema, res.job!));
    const job = res.job!;
    print(`${res.created ? 'submitted' : 'already submitted (same idempotency key)'} ${job.id}${job.runAt ? ` (${job.reason})` : ''}`);
  });

program
  .command('jobs')
  .description('list jobs, newest first')
  .option('--product <id>', 'only this product')
  .option('--stage <stage>', 'only this stage: queued, running, succeeded, ... (repeatable)', collect, [])
  .option('--label <key[=value]>', 'only jobs requiring this label')
  .option('--limit <n>', 'page size', integer('--limit'), 50)
  .option('--page-token <token>', 'continue from a previous page')
  .action(async (opts) => {
    const stages = (opts.stage as string[]).map((s) => {
      const value = JobStage[s.toUpperCase() as keyof typeof JobStage];
      if (value === undefined || value === JobStage.UNSPECIFIED) throw new InvalidArgumentError(`--stage "${s}" is not a job stage`);
      return value;
    });
    const res = await client().listJobs({ productId: opts.product ?? '', stages, label: opts.label ?? '', pageSize: opts.limit, pageToken: opts.pageToken ?? '' });
    if (json()) return print({ jobs: res.jobs.map((j) => toJson(JobSchema, j)), nextPageToken: res.nextPageToken });
    print(res.jobs.length ? jobsTable(res.jobs) : 'no jobs');
    if (res.nextPageToken) print(`more: --page-token ${res.nextPageToken}`);
  });

program
  .command('job')
  .description('show one job')
  .argument('<id>')
  .action(async (id: string) => {
    const res = await client().getJob({ jobId: id });
    if (json()) return print(toJson(JobSchema, res.job!));
    print(jobDetails(res.job!));
  });

program
  .command('logs')
  .description("print a job's output")
  .argument('<id>')
  .option('-f, --follow', 'keep printing new output until the job ends', false)
  .action(async (id: string, opts) => {
    for await (const res of client().tailLogs({ jobId: id, follow: opts.follow })) {
      const chunk = res.chunk!;
      if (json()) process.stdout.write(toJsonString(LogChunkSchema, chunk) + '\n');
      else process.stdout.write(chunk.data);
    }
  });

program
  .command('cancel')
  .description('cancel a job that has not finished')
  .argument('<id>')
  .option('--reason <text>', 'recorded on the job', '')
  .action(async (id: string, opts) => {
    const res = await client().cancelJob({ jobId: id, reason: opts.reason });
    if (json()) return print(toJson(JobSchema, res.job!));
    const job = res.job!;
    print(job.stage === JobStage.CANCELLED ? `cancelled ${job.id}` : `cancel requested for ${job.id}; its factory is stopping it`);
  });

for (const [name, description] of [
  ['ship', 'ship a job that is awaiting review'],
  ['reject', 'reject a job that is awaiting review (--reason is required)'],
  ['requeue', 'run a failed, dead, cancelled, rejected or awaiting-review job again'],
] as const) {
  program
    .command(name)
    .description(description)
    .argument('<id>')
    .option('--reason <text>', 'recorded on the job and its event', '')
    .action(async (id: string, opts) => {
      const request = { jobId: id, reason: opts.reason as string };
      const res = name === 'ship' ? await client().shipJob(request) : name === 'reject' ? await client().rejectJob(request) : await client().requeueJob(request);
      if (json()) return print(toJson(JobSchema, res.job!));
      print(`${res.job!.id} is now ${stageName(res.job!.stage)}`);
    });
}

program
  .command('dag')
  .description("show a job's graph: what it depends on, what depends on it, its parent and children")
  .argument('<id>')
  .action(async (id: string) => {
    const res = await client().getDag({ jobId: id });
    if (json()) return print(toJson(GetDagResponseSchema, res));
    print(dagText(res));
  });

function client() {
  return jobClient(program.opts().coordinator, security());
}

/** The global --key and --tls-* options (also read by `agent`). */
function security(): ClientSecurity {
  const o = program.opts();
  return { ...(o.key ? { key: o.key } : {}), ...(o.tlsCa ? { tlsCa: o.tlsCa } : {}), ...(o.tlsCert ? { tlsCert: o.tlsCert } : {}), ...(o.tlsKey ? { tlsKey: o.tlsKey } : {}) };
}

function json(): boolean {
  return Boolean(program.opts().json);
}

// `gigafactory jobs | head` closes our stdout early; that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConnectError) {
    process.stderr.write(`error: ${err.rawMessage} (${Code[err.code]})\n`);
  } else {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exitCode = 1;
}

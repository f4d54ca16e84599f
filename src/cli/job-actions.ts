/**
 * What the job commands do once parsed (their flags are in job-commands.ts). Loaded only when one of
 * them runs: this is where protobuf and the gRPC client come in.
 */
import { toJson, toJsonString } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { InvalidArgumentError } from 'commander';
import { DependencyFailurePolicy, JobSchema, JobStage, type Job } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { GetDagResponseSchema, type JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { LogChunkSchema } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { jobClient } from './client.js';
import { dagText, jobDetails, jobsTable, stageName } from './format.js';
import { print, printable } from './format-text.js';
import { jobExitStatus, type JobEnding } from './job-exit.js';
import { jobRequestFromFlags } from './job-request.js';
import type { CliContext } from './context.js';

/** submit's own flags beside the job flags of submit-flags.ts. */
export interface SubmitOptions extends Record<string, unknown> {
  idempotencyKey?: string;
  dependsOn: string[];
  onDependencyFailure?: 'cancel' | 'leave-blocked';
  wait: boolean;
}

const POLICIES = { cancel: DependencyFailurePolicy.CANCEL_DEPENDENTS, 'leave-blocked': DependencyFailurePolicy.LEAVE_BLOCKED } as const;

export async function submit(ctx: CliContext, command: string[], opts: SubmitOptions): Promise<void> {
  const request = jobRequestFromFlags(command, opts);
  request.idempotencyKey = opts.idempotencyKey ?? '';
  request.dependsOn = opts.dependsOn;
  request.onDependencyFailure = opts.onDependencyFailure ? POLICIES[opts.onDependencyFailure] : DependencyFailurePolicy.UNSPECIFIED;
  const client = jobClient(ctx.coordinator(), ctx.security());
  const res = await client.submitJob(request);
  const job = res.job!;
  if (ctx.json() && !opts.wait) return print(toJson(JobSchema, job));
  if (!ctx.json()) {
    print(`${res.created ? 'submitted' : 'already submitted (same idempotency key)'} ${job.id}${job.runAt ? ` (${job.reason})` : ''}`);
    print(ctx.jobUrl(job.id));
  }
  if (!opts.wait) return;
  const ended = await followStages(client, job, (line) => process.stderr.write(`${line}\n`));
  if (ctx.json()) print(toJson(JobSchema, ended));
  process.exitCode = exitStatus(ended);
}

/**
 * Follows the job's events from `job`'s revision on, writing one line per stage change, until its
 * run is over: a final stage, or awaiting review (the run succeeded; shipping is an operator's
 * later decision). Resolves with the job as it ended.
 */
async function followStages(client: Client<typeof JobService>, job: Job, say: (line: string) => void): Promise<Job> {
  if (runIsOver(job.stage)) return job;
  // Aborted on the way out: leaving the loop alone does not close the HTTP/2 stream, which would
  // keep the process alive after the job ended.
  const watch = new AbortController();
  try {
    for await (const { event } of client.watchJobs({ jobId: job.id, afterRevision: job.revision }, { signal: watch.signal })) {
      if (!event || event.toStage === event.fromStage) continue;
      // Replayed events carry no job; the lease's holder is then the factory that acted.
      const factory = event.job?.lease?.factoryId ?? (event.actor.startsWith('factory:') ? event.actor.slice('factory:'.length) : '');
      const where = factory && (event.toStage === JobStage.LEASED || event.toStage === JobStage.RUNNING) ? ` on ${factory}` : '';
      say(printable(`${job.id}: ${stageName(event.toStage)}${where}${event.message ? ` — ${event.message}` : ''}`));
      if (runIsOver(event.toStage)) return (await client.getJob({ jobId: job.id })).job!;
    }
  } finally {
    watch.abort();
  }
  throw new Error(`the coordinator ended the watch of ${job.id} before the job ended`);
}

const RUN_OVER = new Set([JobStage.SUCCEEDED, JobStage.FAILED, JobStage.CANCELLED, JobStage.DEAD, JobStage.AWAITING_REVIEW, JobStage.SHIPPED, JobStage.REJECTED]);

function runIsOver(stage: JobStage): boolean {
  return RUN_OVER.has(stage);
}

/** The exit status for a job whose run is over (job-exit.ts has the table). */
function exitStatus(job: Job): number {
  return jobExitStatus(stageName(job.stage) as JobEnding, job.exitCode);
}

export interface ListOptions {
  product?: string;
  /** Stage names as typed: queued, running, ... */
  stage: string[];
  label?: string;
  limit: number;
  pageToken?: string;
}

export async function listJobs(ctx: CliContext, opts: ListOptions): Promise<void> {
  const stages = opts.stage.map((s) => {
    const value = JobStage[s.toUpperCase().replace(/-/g, '_') as keyof typeof JobStage];
    if (value === undefined || value === JobStage.UNSPECIFIED) throw new InvalidArgumentError(`--stage "${s}" is not a job stage`);
    return value;
  });
  const res = await jobClient(ctx.coordinator(), ctx.security()).listJobs({ productId: opts.product ?? '', stages, label: opts.label ?? '', pageSize: opts.limit, pageToken: opts.pageToken ?? '' });
  if (ctx.json()) return print({ jobs: res.jobs.map((j) => toJson(JobSchema, j)), nextPageToken: res.nextPageToken });
  print(res.jobs.length ? jobsTable(res.jobs) : 'no jobs');
  if (res.nextPageToken) print(`more: --page-token ${res.nextPageToken}`);
}

export async function showJob(ctx: CliContext, id: string): Promise<void> {
  const res = await jobClient(ctx.coordinator(), ctx.security()).getJob({ jobId: id });
  if (ctx.json()) return print(toJson(JobSchema, res.job!));
  print(jobDetails(res.job!));
  print(`link       ${ctx.jobUrl(id)}`);
}

/**
 * A job's output, attempt by attempt: a header line before each attempt's chunks, as the web view
 * draws a divider (not with --raw or --json). With --follow it keeps printing until the job ends and
 * exits with the job's status (job-exit.ts).
 */
export async function logs(ctx: CliContext, id: string, opts: { follow: boolean; raw: boolean }): Promise<void> {
  const client = jobClient(ctx.coordinator(), ctx.security());
  const headers = !opts.raw && !ctx.json();
  let epoch: bigint | null = null;
  let atLineStart = true;
  for await (const res of client.tailLogs({ jobId: id, follow: opts.follow })) {
    const chunk = res.chunk!;
    if (ctx.json()) {
      process.stdout.write(toJsonString(LogChunkSchema, chunk) + '\n');
      continue;
    }
    if (headers && chunk.epoch !== epoch) {
      process.stdout.write(`${atLineStart ? '' : '\n'}${attemptHeader(chunk.epoch)}\n`);
      epoch = chunk.epoch;
    }
    process.stdout.write(chunk.data);
    if (chunk.data.length > 0) atLineStart = chunk.data[chunk.data.length - 1] === 0x0a;
  }
  if (!opts.follow) return;
  const { job } = await client.getJob({ jobId: id });
  process.exitCode = exitStatus(job!);
}

/** The line between attempts; the web view's divider says the same. */
export function attemptHeader(epoch: bigint): string {
  return `── attempt · epoch ${epoch} ──`;
}

export async function cancel(ctx: CliContext, id: string, reason: string): Promise<void> {
  const res = await jobClient(ctx.coordinator(), ctx.security()).cancelJob({ jobId: id, reason });
  if (ctx.json()) return print(toJson(JobSchema, res.job!));
  const job = res.job!;
  print(job.stage === JobStage.CANCELLED ? `cancelled ${job.id}` : `cancel requested for ${job.id}; its factory is stopping it`);
}

export async function review(ctx: CliContext, verb: 'ship' | 'reject' | 'requeue', id: string, reason: string): Promise<void> {
  const client = jobClient(ctx.coordinator(), ctx.security());
  const request = { jobId: id, reason };
  const res = verb === 'ship' ? await client.shipJob(request) : verb === 'reject' ? await client.rejectJob(request) : await client.requeueJob(request);
  if (ctx.json()) return print(toJson(JobSchema, res.job!));
  print(`${res.job!.id} is now ${stageName(res.job!.stage)}`);
}

export async function dag(ctx: CliContext, id: string): Promise<void> {
  const res = await jobClient(ctx.coordinator(), ctx.security()).getDag({ jobId: id });
  if (ctx.json()) return print(toJson(GetDagResponseSchema, res));
  print(dagText(res));
}

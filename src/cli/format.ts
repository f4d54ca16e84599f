/** Human output for the CLI: short tables and key/value blocks that fit a terminal. */
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { AttemptOutcome, JobStage, LabelOperator, type Job, type LabelRequirement } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { DagEdgeKind, type GetDagResponse } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { printable, table } from './format-text.js';

export function stageName(stage: JobStage): string {
  return (JobStage[stage] ?? String(stage)).toLowerCase();
}

export function jobsTable(jobs: readonly Job[]): string {
  const rows = jobs.map((j) => [j.id, stageName(j.stage), j.productId, String(j.priority), time(j.createTime), j.title]);
  return table(['ID', 'STAGE', 'PRODUCT', 'PRI', 'CREATED', 'TITLE'], rows);
}

export function jobDetails(job: Job): string {
  const lines: [string, string][] = [
    ['id', job.id],
    ['title', job.title],
    ['product', job.productId],
    ['stage', stageName(job.stage) + (job.reason ? ` (${job.reason})` : '')],
    ['command', job.command.map(quote).join(' ')],
    ['priority', String(job.priority)],
    ['epoch', String(job.epoch)],
    ['attempts', `${job.attemptCount} of ${job.maxAttempts}`],
    ['created', time(job.createTime)],
  ];
  if (job.idempotencyKey) lines.push(['idempotency key', job.idempotencyKey]);
  if (job.externalId) lines.push(['tracker item', [job.externalId, job.externalUrl].filter(Boolean).join(' ')]);
  if (job.dependsOn.length) lines.push(['depends on', job.dependsOn.join(', ')]);
  if (job.parentId) lines.push(['parent', job.parentId]);
  if (job.children.length) lines.push(['children', job.children.join(', ')]);
  if (job.review) lines.push(['review', `${job.review.summary} (reviewers: ${job.review.reviewers.join(', ')})`]);
  else if (job.requireReview) lines.push(['review', 'required']);
  if (job.requiredLabels.length) lines.push(['labels', job.requiredLabels.map(requirementText).join('; ')]);
  if (job.lease) lines.push(['lease', `${job.lease.factoryId} epoch ${job.lease.epoch} until ${time(job.lease.expireTime)}`]);
  if (job.endTime) lines.push(['ended', time(job.endTime)]);
  if (job.exitCode !== undefined) lines.push(['exit code', String(job.exitCode)]);
  if (job.result) lines.push(['result', job.result]);
  if (job.cost || job.estimatedCost) lines.push(['cost', `${job.cost}${job.estimatedCost ? ` (estimated ${job.estimatedCost} per attempt)` : ''}`]);
  if (job.costCeiling) lines.push(['cost ceiling', `${job.costCeiling} per attempt`]);
  const width = Math.max(...lines.map(([k]) => k.length));
  const out = lines.map(([k, v]) => `${k.padEnd(width)}  ${printable(v)}`);
  for (const a of job.attempts) {
    out.push(printable(`  attempt epoch ${a.epoch} on ${a.factoryId}: ${(AttemptOutcome[a.outcome] ?? '').toLowerCase() || 'in progress'}${a.exitCode !== undefined ? ` exit ${a.exitCode}` : ''}${a.message ? ` — ${a.message}` : ''}`));
  }
  return out.join('\n');
}

/** A DAG as a node table (the requested job first) and its edges, one per line. */
export function dagText(dag: GetDagResponse): string {
  const nodes = table(['ID', 'STAGE', 'TITLE', 'REASON'], dag.nodes.map((n) => [n.jobId, stageName(n.stage), n.title, n.reason]));
  const edges = dag.edges.map((e) => `${e.fromJobId} ${e.kind === DagEdgeKind.CHILD ? 'has child' : 'depends on'} ${e.toJobId}`);
  return [nodes, '', ...(edges.length ? edges : ['no edges']), ...(dag.truncated ? ['(truncated: the graph is larger than one response)'] : [])].join('\n');
}

/** A label requirement as it reads: "os equals linux", "gpu exists", "zone not in a,b". */
function requirementText(r: LabelRequirement): string {
  const operator = (LabelOperator[r.operator] ?? String(r.operator)).toLowerCase().replace(/_/g, ' ');
  return [r.key, operator, r.values.join(',')].filter(Boolean).join(' ');
}

function time(ts: Timestamp | undefined): string {
  return ts ? new Date(timestampMs(ts)).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

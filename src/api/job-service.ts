/**
 * JobService handlers, written once against the generated descriptor and mounted on both listeners.
 * They translate wire ↔ domain and nothing more; the rules live in coordinator/ and domain/.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  AddChildrenResponseSchema,
  CancelJobResponseSchema,
  DagEdgeKind,
  DagEdgeSchema,
  DagNodeSchema,
  GetDagResponseSchema,
  RejectJobResponseSchema,
  RequeueJobResponseSchema,
  ShipJobResponseSchema,
  ExplainScoreResponseSchema,
  FactoryExplanationSchema,
  FilterCheckSchema,
  GetJobResponseSchema,
  JobService,
  ListJobsResponseSchema,
  SubmitJobResponseSchema,
  SubmitJobsResponseSchema,
  TailLogsResponseSchema,
  WatchJobsResponseSchema,
  type ListJobsRequest,
} from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { forItem, invalidArgument } from '../domain/errors.js';
import type { JobRecord, JobStage } from '../domain/job.js';
import type { Jobs } from '../coordinator/jobs.js';
import type { LogTail } from '../coordinator/log-tail.js';
import type { JobWatch } from '../coordinator/job-watch.js';
import type { JobQuery } from '../store/job-store.js';
import { eventToWire, jobToWire, logChunkToWire, scoreToWire, stageFromWire, stageToWire, weightsToWire } from './convert.js';
import type { Workflows } from '../coordinator/workflows.js';
import { explainJob } from '../coordinator/explain.js';
import type { Fleet } from '../coordinator/fleet.js';
import type { OpenStreams, StreamOwner } from '../coordinator/open-streams.js';
import { principalOf } from './principal.js';
import { decodePageToken, encodePageToken, filterFingerprint } from './page-token.js';
import { jobSpecFromRequest } from './submit-request.js';
import { actorOf } from './actor.js';

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

export interface JobServiceDeps {
  jobs: Jobs;
  watch: JobWatch;
  logs: LogTail;
  fleet: Fleet;
  workflows: Workflows;
  streams: OpenStreams;
}

export function jobServiceImpl({ jobs, watch, logs, fleet, workflows, streams }: JobServiceDeps): ServiceImpl<typeof JobService> {
  /** Every job a reader gets, alone or inside a WatchJobs event, says why it waits on its product's budget. */
  const toWire = (job: JobRecord) => jobToWire(fleet.budgets.annotate(job));
  return {
    async submitJob(req, ctx) {
      const { job, created } = await workflows.submit(jobSpecFromRequest(req), actorOf(ctx), req.dependsOnKeys);
      return create(SubmitJobResponseSchema, { job: toWire(job), created });
    },

    async submitJobs(req, ctx) {
      const specs = req.jobs.map((item, i) =>
        forItem(`jobs[${i}]`, () => {
          if (item.dependsOnKeys.length > 0) throw invalidArgument('depends_on_keys names siblings in an AddChildren request; in SubmitJobs, use depends_on with job ids');
          return jobSpecFromRequest(item);
        }),
      );
      const stored = await workflows.submitMany(specs, actorOf(ctx));
      return create(SubmitJobsResponseSchema, {
        results: stored.map(({ job, created }) => create(SubmitJobResponseSchema, { job: toWire(job), created })),
      });
    },

    async shipJob(req, ctx) {
      const job = await jobs.ship(requireJobId(req.jobId), actorOf(ctx), req.reason);
      return create(ShipJobResponseSchema, { job: toWire(job) });
    },

    async rejectJob(req, ctx) {
      const jobId = requireJobId(req.jobId);
      if (!req.reason.trim()) throw invalidArgument('reason is required to reject a job (say what was wrong with the work)');
      const job = await jobs.reject(jobId, actorOf(ctx), req.reason);
      return create(RejectJobResponseSchema, { job: toWire(job) });
    },

    async requeueJob(req, ctx) {
      const job = await jobs.requeue(requireJobId(req.jobId), actorOf(ctx), req.reason);
      return create(RequeueJobResponseSchema, { job: toWire(job) });
    },

    async addChildren(req, ctx) {
      if (!req.parentId) throw invalidArgument('parent_id is required');
      const inputs = req.children.map((child, i) => forItem(`children[${i}]`, () => ({ spec: jobSpecFromRequest(child), dependsOnKeys: [...child.dependsOnKeys] })));
      const { parent, children } = await workflows.addChildren(req.parentId, inputs, actorOf(ctx));
      return create(AddChildrenResponseSchema, { parent: toWire(parent), children: children.map(toWire) });
    },

    async getDag(req) {
      const dag = await workflows.dag(requireJobId(req.jobId));
      return create(GetDagResponseSchema, {
        nodes: dag.nodes.map((n) => create(DagNodeSchema, { jobId: n.id, title: n.title, stage: stageToWire(n.stage), reason: n.reason, productId: n.productId })),
        edges: dag.edges.map((e) => create(DagEdgeSchema, { fromJobId: e.from, toJobId: e.to, kind: e.kind === 'child' ? DagEdgeKind.CHILD : DagEdgeKind.DEPENDS_ON })),
        truncated: dag.truncated,
      });
    },

    async getJob(req) {
      const job = await jobs.get(requireJobId(req.jobId));
      return create(GetJobResponseSchema, { job: toWire(job) });
    },

    async listJobs(req) {
      const { query, fingerprint } = listQuery(req);
      const page = await jobs.list(query);
      return create(ListJobsResponseSchema, {
        jobs: page.jobs.map(toWire),
        nextPageToken: page.next ? encodePageToken(page.next, fingerprint) : '',
      });
    },

    async cancelJob(req, ctx) {
      const job = await jobs.cancel(requireJobId(req.jobId), actorOf(ctx), req.reason);
      return create(CancelJobResponseSchema, { job: toWire(job) });
    },

    async *watchJobs(req, ctx) {
      if (req.afterRevision < 0n) throw invalidArgument(`after_revision ${req.afterRevision} must not be negative`);
      if (req.afterRevision > 0n && !req.jobId) throw invalidArgument('after_revision needs job_id: only one job has a history to resume in');
      const filter = { productId: req.productId, jobId: req.jobId, afterRevision: Number(req.afterRevision) };
      for await (const update of streams.scope(ctx.signal, (signal) => watch.follow(filter, signal), streamOwner(ctx))) {
        yield create(WatchJobsResponseSchema, { event: eventToWire(update.event, update.job && fleet.budgets.annotate(update.job)) });
      }
    },

    async explainScore(req) {
      const explanation = await explainJob(fleet, requireJobId(req.jobId));
      return create(ExplainScoreResponseSchema, {
        factories: explanation.factories.map((f) =>
          create(FactoryExplanationSchema, {
            factoryId: f.factoryId,
            passed: f.passed,
            checks: f.checks.map((c) => create(FilterCheckSchema, c)),
            score: f.score ? scoreToWire(f.score) : undefined,
          }),
        ),
        weights: weightsToWire(explanation.weights),
        unplaceableReason: explanation.unplaceableReason,
        lastDecision: explanation.lastDecision?.decision ? scoreToWire(explanation.lastDecision.decision) : undefined,
        lastDecisionFactoryId: explanation.lastDecision?.factoryId ?? '',
        waitingReasons: explanation.waitingReasons,
        notBeforeTime: explanation.notBefore !== null ? timestampFromMs(explanation.notBefore) : undefined,
      });
    },

    async *tailLogs(req, ctx) {
      const jobId = requireJobId(req.jobId);
      if (req.afterEpoch < 0n || req.afterSequence < 0n) throw invalidArgument('after_epoch and after_sequence must not be negative');
      const after = req.afterEpoch > 0n || req.afterSequence > 0n ? { epoch: Number(req.afterEpoch), sequence: Number(req.afterSequence) } : null;
      for await (const chunk of streams.scope(ctx.signal, (signal) => logs.tail(jobId, req.follow, signal, after), streamOwner(ctx))) {
        yield create(TailLogsResponseSchema, { chunk: logChunkToWire(chunk) });
      }
    },
  };
}

/** The API key a follower counts against (none in development mode). */
function streamOwner(ctx: HandlerContext): StreamOwner | null {
  const principal = principalOf(ctx);
  return principal.kind === 'key' ? { keyId: principal.keyId, name: principal.name } : null;
}

function requireJobId(id: string): string {
  if (!id) throw invalidArgument('job_id is required');
  return id;
}

function listQuery(req: ListJobsRequest): { query: JobQuery; fingerprint: string } {
  if (req.pageSize < 0) throw invalidArgument(`page_size ${req.pageSize} must not be negative`);
  if (req.pageSize > MAX_PAGE_SIZE) throw invalidArgument(`page_size ${req.pageSize} is above the maximum of ${MAX_PAGE_SIZE}`);
  const stages = req.stages.map((s, i): JobStage => {
    const stage = stageFromWire(s);
    if (!stage) throw invalidArgument(`stages[${i}] must be a known JOB_STAGE_* value other than UNSPECIFIED`);
    return stage;
  });
  const [labelKey, labelValue] = splitLabel(req.label);
  const filter = { productId: req.productId, stages, labelKey, labelValue };
  const fingerprint = filterFingerprint(filter);
  const query: JobQuery = { limit: req.pageSize || DEFAULT_PAGE_SIZE };
  if (req.productId) query.productId = req.productId;
  if (stages.length) query.stages = stages;
  if (labelKey) query.labelKey = labelKey;
  if (labelValue !== undefined) query.labelValue = labelValue;
  if (req.pageToken) query.after = decodePageToken(req.pageToken, fingerprint);
  return { query, fingerprint };
}

function splitLabel(label: string): [string | undefined, string | undefined] {
  if (!label) return [undefined, undefined];
  const eq = label.indexOf('=');
  if (eq === 0) throw invalidArgument(`label "${label}" must be "key" or "key=value"`);
  return eq < 0 ? [label, undefined] : [label.slice(0, eq), label.slice(eq + 1)];
}

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
  GetLogsResponseSchema,
  WatchJobsResponseSchema,
} from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { forItem, invalidArgument } from '../domain/errors.js';
import type { JobRecord } from '../domain/job.js';
import type { Jobs } from '../coordinator/jobs.js';
import type { LogTail } from '../coordinator/log-tail.js';
import type { JobWatch } from '../coordinator/job-watch.js';
import type { LogPosition } from '../store/job-store.js';
import { eventToWire, jobToWire, logChunkToWire, scoreToWire, stageToWire, weightsToWire } from './convert.js';
import type { Workflows } from '../coordinator/workflows.js';
import type { Fleet } from '../coordinator/fleet.js';
import type { OpenStreams, StreamOwner } from '../coordinator/open-streams.js';
import { principalOf, seesSecretEnv } from './principal.js';
import { hideSecretEnv } from '../domain/job-spec.js';
import { encodePageToken } from './page-token.js';
import { listQuery } from './list-jobs-request.js';
import { jobSpecFromRequest } from './submit-request.js';
import { actorOf } from './actor.js';

const DEFAULT_LOG_PAGE_SIZE = 500;
const MAX_LOG_PAGE_SIZE = 1_000;

export interface JobServiceDeps {
  jobs: Jobs;
  watch: JobWatch;
  logs: LogTail;
  fleet: Fleet;
  workflows: Workflows;
  streams: OpenStreams;
}

/** The artifact RPCs are served by api/artifact-reads.ts beside these. */
export type JobServiceCore = Omit<ServiceImpl<typeof JobService>, 'listArtifacts' | 'downloadArtifact'>;

export function jobServiceImpl({ jobs, watch, logs, fleet, workflows, streams }: JobServiceDeps): JobServiceCore {
  /**
   * Every job a reader gets, alone or inside a WatchJobs event, says why it waits on its product's
   * budget; a viewer gets it without the values of secret-named env variables.
   */
  const readable = (job: JobRecord, ctx: HandlerContext): JobRecord => {
    const annotated = fleet.budgets.annotate(job);
    return seesSecretEnv(ctx) ? annotated : { ...annotated, env: hideSecretEnv(annotated.env) };
  };
  return {
    async submitJob(req, ctx) {
      const { job, created } = await workflows.submit(fleet.budgets.withDefaultCeiling(jobSpecFromRequest(req)), actorOf(ctx), req.dependsOnKeys);
      return create(SubmitJobResponseSchema, { job: jobToWire(readable(job, ctx)), created });
    },

    async submitJobs(req, ctx) {
      const specs = req.jobs.map((item, i) =>
        forItem(`jobs[${i}]`, () => {
          if (item.dependsOnKeys.length > 0) throw invalidArgument('depends_on_keys names siblings in an AddChildren request; in SubmitJobs, use depends_on with job ids');
          return fleet.budgets.withDefaultCeiling(jobSpecFromRequest(item));
        }),
      );
      const stored = await workflows.submitMany(specs, actorOf(ctx));
      return create(SubmitJobsResponseSchema, {
        results: stored.map(({ job, created }) => create(SubmitJobResponseSchema, { job: jobToWire(readable(job, ctx)), created })),
      });
    },

    async shipJob(req, ctx) {
      const job = await jobs.ship(requireJobId(req.jobId), actorOf(ctx), req.reason);
      return create(ShipJobResponseSchema, { job: jobToWire(readable(job, ctx)) });
    },

    async rejectJob(req, ctx) {
      const jobId = requireJobId(req.jobId);
      if (!req.reason.trim()) throw invalidArgument('reason is required to reject a job (say what was wrong with the work)');
      const job = await jobs.reject(jobId, actorOf(ctx), req.reason);
      return create(RejectJobResponseSchema, { job: jobToWire(readable(job, ctx)) });
    },

    async requeueJob(req, ctx) {
      const job = await jobs.requeue(requireJobId(req.jobId), actorOf(ctx), req.reason);
      return create(RequeueJobResponseSchema, { job: jobToWire(readable(job, ctx)) });
    },

    async addChildren(req, ctx) {
      if (!req.parentId) throw invalidArgument('parent_id is required');
      const inputs = req.children.map((child, i) => forItem(`children[${i}]`, () => ({ spec: jobSpecFromRequest(child), dependsOnKeys: [...child.dependsOnKeys] })));
      const { parent, children } = await workflows.addChildren(req.parentId, inputs, actorOf(ctx));
      return create(AddChildrenResponseSchema, { parent: jobToWire(readable(parent, ctx)), children: children.map((child) => jobToWire(readable(child, ctx))) });
    },

    async getDag(req) {
      const dag = await workflows.dag(requireJobId(req.jobId));
      return create(GetDagResponseSchema, {
        nodes: dag.nodes.map((n) => create(DagNodeSchema, { jobId: n.id, title: n.title, stage: stageToWire(n.stage), reason: n.reason, productId: n.productId })),
        edges: dag.edges.map((e) => create(DagEdgeSchema, { fromJobId: e.from, toJobId: e.to, kind: e.kind === 'child' ? DagEdgeKind.CHILD : DagEdgeKind.DEPENDS_ON })),
        truncated: dag.truncated,
      });
    },

    async getJob(req, ctx) {
      const job = await jobs.get(requireJobId(req.jobId));
      return create(GetJobResponseSchema, { job: jobToWire(readable(job, ctx)) });
    },

    async listJobs(req, ctx) {
      const { query, fingerprint } = listQuery(req);
      const page = await jobs.list(query);
      return create(ListJobsResponseSchema, {
        jobs: page.jobs.map((job) => jobToWire(readable(job, ctx))),
        nextPageToken: page.next ? encodePageToken(page.next, fingerprint) : '',
      });
    },

    async cancelJob(req, ctx) {
      const job = await jobs.cancel(requireJobId(req.jobId), actorOf(ctx), req.reason);
      return create(CancelJobResponseSchema, { job: jobToWire(readable(job, ctx)) });
    },

    async *watchJobs(req, ctx) {
      if (req.afterRevision < 0n) throw invalidArgument(`after_revision ${req.afterRevision} must not be negative`);
      if (req.afterRevision > 0n && !req.jobId) throw invalidArgument('after_revision needs job_id: only one job has a history to resume in');
      const filter = { productId: req.productId, jobId: req.jobId, afterRevision: Number(req.afterRevision) };
      for await (const update of streams.scope(ctx.signal, (signal) => watch.follow(filter, signal), streamOwner(ctx))) {
        yield create(WatchJobsResponseSchema, { event: eventToWire(update.event, update.job && readable(update.job, ctx)) });
      }
    },

    async explainScore(req) {
      const explanation = await fleet.explain(await jobs.get(requireJobId(req.jobId)));
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

    async getLogs(req) {
      const jobId = requireJobId(req.jobId);
      if (req.pageSize < 0) throw invalidArgument(`page_size ${req.pageSize} must not be negative`);
      if (req.pageSize > MAX_LOG_PAGE_SIZE) throw invalidArgument(`page_size ${req.pageSize} is above the maximum of ${MAX_LOG_PAGE_SIZE}`);
      const page = await logs.page(jobId, logPosition(req), req.pageSize || DEFAULT_LOG_PAGE_SIZE);
      const chunks = page.chunks.map(logChunkToWire);
      const decoder = new TextDecoder();
      const text = chunks.map((c) => decoder.decode(c.data, { stream: true })).join('') + decoder.decode();
      return create(GetLogsResponseSchema, { chunks, more: page.more, text });
    },

    async *tailLogs(req, ctx) {
      const jobId = requireJobId(req.jobId);
      const after = logPosition(req);
      for await (const chunk of streams.scope(ctx.signal, (signal) => logs.tail(jobId, req.follow, signal, after), streamOwner(ctx))) {
        yield create(TailLogsResponseSchema, { chunk: logChunkToWire(chunk) });
      }
    },
  };
}

/** Where a log read starts: after the chunk the request names, or (both zero) from the start. */
function logPosition(req: { afterEpoch: bigint; afterSequence: bigint }): LogPosition | null {
  if (req.afterEpoch < 0n || req.afterSequence < 0n) throw invalidArgument('after_epoch and after_sequence must not be negative');
  return req.afterEpoch > 0n || req.afterSequence > 0n ? { epoch: Number(req.afterEpoch), sequence: Number(req.afterSequence) } : null;
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

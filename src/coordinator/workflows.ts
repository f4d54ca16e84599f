/**
 * Workflows: jobs that wait for other jobs. Submits with dependencies, AddChildren, GetDag, and the
 * component that moves blocked jobs on when the jobs they wait for end.
 *
 * The links live in the job records (dependsOn/dependents, parentId/children), and every transition
 * is one compare-and-set on one record, so there is no multi-record transaction to lose:
 * - a dependent is stored first (blocked), then recorded on each dependency (`dependents`), then
 *   evaluated. A dependency that ends before it is linked is seen by that evaluation; one that ends
 *   after is seen by the reaction to its final update (which reads `dependents` from the record it
 *   committed). Either way the dependent is evaluated after the dependency's end is durable;
 * - children are recorded on the parent (refused once it has finished) before they are stored, so a
 *   parent's completion and new children are ordered by the compare-and-set on the parent;
 * - after a crash (or a change made by another replica, whose feed we do not see), a periodic sweep
 *   of blocked jobs, a bounded page per tick, evaluates them again.
 */
import { createHash } from 'node:crypto';
import { DomainError, forItem, invalidArgument } from '../domain/errors.js';
import { awaitedBy, describeCycle, findCycle, linkChildren, linkDependent, resolveBlocked } from '../domain/dag.js';
import { isFinal, type JobRecord, type JobSpec, type JobStage } from '../domain/job.js';
import { resolveInputs, type InputSource } from '../domain/job-inputs.js';
import { JOB_LIMITS, validateJobSpec } from '../domain/job-spec.js';
import type { Actor } from '../domain/lifecycle.js';
import type { Logger } from '../logging.js';
import type { JobCursor, JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import { newId } from './ids.js';
import type { JobFeed, JobUpdate } from './job-feed.js';
import type { Jobs } from './jobs.js';

/** Blocked jobs evaluated per sweep tick. */
const SWEEP_PAGE = 50;
/** At most this many children per AddChildren request. */
export const MAX_CHILDREN_PER_REQUEST = 100;
/** At most this many jobs per SubmitJobs request. */
export const MAX_JOBS_PER_SUBMIT = 1_000;
/** GetDag returns at most this many nodes. */
export const MAX_DAG_NODES = 1_000;
/** Existing jobs read while looking for a cycle; beyond this the existing graph is not followed. */
const MAX_CYCLE_SCAN = 5_000;

/** One child of an AddChildren request: its spec and the sibling keys it depends on. */
export interface ChildInput {
  spec: JobSpec;
  dependsOnKeys: string[];
}

export interface DagEdgeRecord {
  from: string;
  to: string;
  kind: 'depends_on' | 'child';
}

export interface DagView {
  nodes: JobRecord[];
  edges: DagEdgeRecord[];
  truncated: boolean;
}

export class Workflows {
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private sweepCursor: JobCursor | undefined;
  private sweeping = false;

  constructor(
    private readonly jobs: Jobs,
    private readonly store: JobStore,
    private readonly feed: JobFeed,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly sweepIntervalMs = 1_000,
  ) {}

  /** Follows the feed and starts the periodic sweep of blocked jobs. */
  start(): void {
    void this.watchFeed();
    this.timer = setInterval(() => void this.sweepOnce().catch((err: unknown) => this.log.error({ err }, 'blocked-job sweep failed')), this.sweepIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.stopping.abort();
  }

  /** SubmitJob: checks that every dependency exists, stores the job, links it, and evaluates it. */
  async submit(input: JobSpec, actor: Actor, dependsOnKeys: readonly string[] = []): Promise<{ job: JobRecord; created: boolean }> {
    if (dependsOnKeys.length > 0) {
      throw invalidArgument('depends_on_keys names siblings in the same AddChildren request; in SubmitJob, use depends_on with job ids');
    }
    const spec = this.jobs.withReview(validateJobSpec(input), actor);
    const dependencies = await this.existing(spec.dependsOn ?? [], 'depends_on');
    return this.storeAndLink(withResolvedInputs(spec, dependencies, 'inputs'), actor);
  }

  /**
   * SubmitJobs: every job is validated, its key checked against the others and its dependencies
   * looked up before any job is stored; then all are submitted at once, so their inserts (and
   * claims) are issued in one turn and share the store's group commits. Not a transaction: if the
   * store fails part-way, some jobs may be stored, and a retry with the same keys returns them.
   */
  async submitMany(inputs: readonly JobSpec[], actor: Actor): Promise<{ job: JobRecord; created: boolean }[]> {
    if (inputs.length === 0) throw invalidArgument('jobs must have at least one job');
    if (inputs.length > MAX_JOBS_PER_SUBMIT) throw invalidArgument(`jobs has ${inputs.length} jobs; at most ${MAX_JOBS_PER_SUBMIT} per request`);
    const keyed = new Map<string, number>();
    const specs = inputs.map((input, i) => {
      const spec = forItem(`jobs[${i}]`, () => this.jobs.withReview(validateJobSpec(input), actor));
      if (!spec.idempotencyKey) return spec;
      // Two inserts with one key in one commit would race for it; refusing says so plainly.
      const key = `${spec.productId}\u0000${spec.idempotencyKey}`;
      const first = keyed.get(key);
      if (first !== undefined) throw invalidArgument(`jobs[${i}].idempotency_key "${spec.idempotencyKey}" is used by jobs[${first}] of the same product too; keys must be unique`);
      keyed.set(key, i);
      return spec;
    });
    const resolved: JobSpec[] = [];
    for (const [i, spec] of specs.entries()) {
      resolved.push(withResolvedInputs(spec, await this.existing(spec.dependsOn ?? [], `jobs[${i}].depends_on`), `jobs[${i}].inputs`));
    }
    return Promise.all(resolved.map((spec) => this.storeAndLink(spec, actor)));
  }

  /** Stores a checked job; a new one is linked to its dependencies and evaluated. */
  private async storeAndLink(spec: JobSpec, actor: Actor): Promise<{ job: JobRecord; created: boolean }> {
    const stored = await this.jobs.submit(spec, actor);
    if (stored.created) await this.linkAndEvaluate(stored.job);
    return stored;
  }

  /**
   * AddChildren: validates every child, refuses unknown dependencies and cycles, records the children
   * on the parent (refused if it has finished), then stores, links and evaluates them in order.
   */
  async addChildren(parentId: string, inputs: readonly ChildInput[], actor: Actor): Promise<{ parent: JobRecord; children: JobRecord[] }> {
    if (inputs.length === 0) throw invalidArgument('children must have at least one job');
    if (inputs.length > MAX_CHILDREN_PER_REQUEST) throw invalidArgument(`children has ${inputs.length} jobs; at most ${MAX_CHILDREN_PER_REQUEST} per request`);
    const parent = await this.jobs.get(parentId);
    const specs = inputs.map((input, i) => forItem(`children[${i}]`, () => this.jobs.withReview(validateJobSpec(input.spec), actor)));
    // Ids first: a keyed child's id is derived from the parent and its key, so a retried request
    // names the same jobs (and the idempotent insert returns them).
    const byKey = new Map<string, number>();
    specs.forEach((spec, i) => {
      if (!spec.idempotencyKey) return;
      if (byKey.has(spec.idempotencyKey)) throw invalidArgument(`children[${i}].idempotency_key "${spec.idempotencyKey}" is used by children[${byKey.get(spec.idempotencyKey)}] too; keys must be unique`);
      byKey.set(spec.idempotencyKey, i);
    });
    const ids = specs.map((spec) => childId(parent, spec.idempotencyKey, this.clock.now()));
    const siblingsOf = specs.map((_, i) =>
      inputs[i]!.dependsOnKeys.map((key): InputSource => {
        const at = byKey.get(key);
        if (at === undefined) throw invalidArgument(`children[${i}].depends_on_keys: no child in this request has idempotency_key "${key}"`);
        return { id: ids[at]!, idempotencyKey: key };
      }),
    );
    const newIds = new Set(ids);
    const resolved: JobSpec[] = [];
    for (const [i, spec] of specs.entries()) {
      const siblings = siblingsOf[i]!;
      const dependsOn = [...new Set([...(spec.dependsOn ?? []), ...siblings.map((s) => s.id)])];
      if (dependsOn.length > JOB_LIMITS.maxDependencies) throw invalidArgument(`children[${i}] depends on ${dependsOn.length} jobs; at most ${JOB_LIMITS.maxDependencies}`);
      const existing = await this.existing((spec.dependsOn ?? []).filter((id) => !newIds.has(id)), `children[${i}].depends_on`);
      const linked = dependsOn.length ? { ...spec, dependsOn } : spec;
      resolved.push(withResolvedInputs(linked, [...existing, ...siblings], `children[${i}].inputs`));
    }
    await this.refuseCycles(parent, ids, resolved);

    await this.jobs.mutate(parent.id, (current) => linkChildren(current, ids, this.clock.now(), actor));
    const children: JobRecord[] = [];
    for (const [i, spec] of resolved.entries()) {
      const stored = await this.jobs.submit(spec, actor, { id: ids[i]!, parentId: parent.id });
      if (stored.job.id !== ids[i]) {
        // The key was already used in the product by a job that is not this parent's child.
        await this.jobs.mutate(parent.id, (current) => unlinkChild(current, ids[i]!, this.clock.now()));
        throw new DomainError('already_exists', `children[${i}].idempotency_key "${spec.idempotencyKey}" is already used by job ${stored.job.id}, which is not a child of ${parent.id}`);
      }
      children.push(stored.job);
    }
    for (const child of children) await this.linkAndEvaluate(child);
    const fresh = await Promise.all(children.map((c) => this.jobs.get(c.id)));
    return { parent: await this.jobs.get(parent.id), children: fresh };
  }

  /** The graph around a job: every job reachable over any link, in either direction, bounded. */
  async dag(jobId: string): Promise<DagView> {
    const start = await this.jobs.get(jobId);
    const nodes = new Map<string, JobRecord>([[start.id, start]]);
    const queue: JobRecord[] = [start];
    let truncated = false;
    while (queue.length > 0) {
      const job = queue.shift()!;
      const near = [...(job.dependsOn ?? []), ...(job.dependents ?? []), ...(job.children ?? []), ...(job.parentId ? [job.parentId] : [])];
      for (const id of near) {
        if (nodes.has(id)) continue;
        if (nodes.size >= MAX_DAG_NODES) {
          truncated = true;
          break;
        }
        const found = await this.store.getJob(id);
        if (!found) continue;
        nodes.set(id, found);
        queue.push(found);
      }
    }
    const edges: DagEdgeRecord[] = [];
    for (const job of nodes.values()) {
      for (const dep of job.dependsOn ?? []) if (nodes.has(dep)) edges.push({ from: job.id, to: dep, kind: 'depends_on' });
      for (const child of job.children ?? []) if (nodes.has(child)) edges.push({ from: job.id, to: child, kind: 'child' });
    }
    return { nodes: [...nodes.values()], edges, truncated };
  }

  /**
   * Moves a blocked job on if the jobs it waits for allow it (see domain/dag.ts resolveBlocked).
   * Safe to call any number of times, from any replica: it is one compare-and-set, re-decided on a
   * lost race.
   */
  async evaluate(jobId: string): Promise<void> {
    const job = await this.store.getJob(jobId);
    if (!job || job.stage !== 'blocked') return;
    const ids = job.awaitingChildren ? (job.children ?? []) : (job.dependsOn ?? []);
    const stages = new Map<string, JobStage | null>();
    for (const id of ids) stages.set(id, (await this.store.getJob(id))?.stage ?? null);
    const now = this.clock.now();
    try {
      await this.jobs.mutate(jobId, (current) => resolveBlocked(current, (id) => stages.get(id) ?? null, now));
    } catch (err) {
      if (!(err instanceof DomainError)) throw err; // changed by someone else meanwhile: they decide
    }
  }

  /**
   * The reaction to one committed change: a job that ended (or was requeued) re-evaluates the jobs
   * waiting for it; a job that just became blocked (its work done, waiting for children; or requeued
   * with dependencies) is evaluated itself. Submits evaluate themselves (see submit).
   */
  onUpdate({ event, job }: JobUpdate): void {
    const targets: string[] = [];
    const moved = event.fromStage !== event.toStage;
    if (moved && (isFinal(job.stage) || event.kind === 'requeued')) {
      targets.push(...(job.dependents ?? []));
      if (job.parentId) targets.push(job.parentId);
    }
    if (job.stage === 'blocked' && moved && event.kind !== 'submitted') targets.push(job.id);
    for (const id of targets) {
      void this.evaluate(id).catch((err: unknown) => this.log.error({ err, jobId: id }, 'could not evaluate a blocked job'));
    }
  }

  /** Evaluates one page of blocked jobs, continuing from where the last call stopped. Returns how many. */
  async sweepOnce(pageSize = SWEEP_PAGE): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    try {
      const page = await this.store.listJobs({ stages: ['blocked'], limit: pageSize, ...(this.sweepCursor ? { after: this.sweepCursor } : {}) });
      this.sweepCursor = page.next ?? undefined;
      for (const job of page.jobs) await this.evaluate(job.id);
      return page.jobs.length;
    } finally {
      this.sweeping = false;
    }
  }

  private async watchFeed(): Promise<void> {
    const updates = this.feed.topic.subscribe((item) => item.kind === 'update', this.stopping.signal);
    try {
      for await (const item of updates) if (item.kind === 'update') this.onUpdate(item.update);
    } catch (err) {
      this.log.error({ err }, 'workflow feed watcher stopped');
    }
  }

  /** Records the job on each dependency's `dependents`, then evaluates it (see the file comment). */
  private async linkAndEvaluate(job: JobRecord): Promise<void> {
    for (const dep of job.dependsOn ?? []) {
      await this.jobs.mutate(dep, (current) => linkDependent(current, job.id, this.clock.now()));
    }
    if (job.stage === 'blocked') await this.evaluate(job.id);
  }

  /** The jobs `ids` names, each of which must exist. */
  private async existing(ids: readonly string[], field: string): Promise<JobRecord[]> {
    const found: JobRecord[] = [];
    for (const [i, id] of ids.entries()) {
      const job = await this.store.getJob(id);
      if (!job) throw invalidArgument(`${field}[${i}]: job ${id} does not exist`);
      found.push(job);
    }
    return found;
  }

  /**
   * Refuses the request if the new edges close a cycle: the children's dependencies, and (when the
   * parent completes with its children) parent → each child. The existing graph is acyclic, so any
   * cycle runs through a new child; only jobs reachable from them are read.
   */
  private async refuseCycles(parent: JobRecord, ids: readonly string[], specs: readonly JobSpec[]): Promise<void> {
    const edges = new Map<string, string[]>();
    ids.forEach((id, i) => edges.set(id, specs[i]!.dependsOn ?? []));
    const known = new Map<string, JobRecord>();
    const queue = ids.flatMap((id) => edges.get(id)!).filter((id) => !edges.has(id));
    while (queue.length > 0 && known.size < MAX_CYCLE_SCAN) {
      const id = queue.shift()!;
      if (known.has(id)) continue;
      const job = id === parent.id ? parent : await this.store.getJob(id);
      if (!job) continue;
      known.set(id, job);
      for (const next of awaitedBy(job)) if (!known.has(next) && !edges.has(next)) queue.push(next);
    }
    const edgesOf = (id: string): readonly string[] => {
      const mine = edges.get(id);
      if (mine) return mine;
      const job = known.get(id);
      if (!job) return [];
      return id === parent.id && parent.completeWithChildren ? [...awaitedBy(job), ...ids] : awaitedBy(job);
    };
    const cycle = findCycle(ids, edgesOf);
    if (cycle) {
      const label = (id: string): string => {
        const i = ids.indexOf(id);
        return i < 0 ? id : specs[i]!.idempotencyKey ? `"${specs[i]!.idempotencyKey}"` : `children[${i}]`;
      };
      throw invalidArgument(`dependency cycle: ${describeCycle(cycle, label)}; jobs in a cycle would wait for each other forever`);
    }
  }
}

/** The spec with each input's `from` resolved to the id of one of its dependencies. */
function withResolvedInputs(spec: JobSpec, dependencies: readonly InputSource[], field: string): JobSpec {
  return spec.inputs?.length ? { ...spec, inputs: resolveInputs(spec.inputs, dependencies, field) } : spec;
}

/** A keyed child's id is derived from its parent and key (a retried request names the same job). */
function childId(parent: JobRecord, key: string, now: number): string {
  if (!key) return newId('job', now);
  return newId('job', parent.createdAt, createHash('sha256').update(`${parent.id}\u0000${key}`).digest().subarray(0, 10));
}

function unlinkChild(parent: JobRecord, childId: string, now: number): { job: JobRecord; event: null } | null {
  const children = parent.children ?? [];
  if (!children.includes(childId)) return null;
  return { job: { ...parent, children: children.filter((id) => id !== childId), revision: parent.revision + 1, updatedAt: now }, event: null };
}

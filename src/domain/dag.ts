/**
 * The workflow graph's rules, pure: when a blocked job is released, cancelled or finished, how the
 * reverse links are recorded, and cycle detection. The coordinator (coordinator/workflows.ts) reads
 * the jobs involved, calls one of these, and compare-and-sets the one record it returns.
 *
 * Two kinds of edge make a job wait:
 * - dependency: X depends on Y: X stays blocked until Y has succeeded or been shipped;
 * - completion: parent P has complete_with_children: P's success waits for every child.
 * Both point from the waiting job to the awaited one, and a cycle over them would wait forever, so
 * one is refused when it would be created.
 */
import { failedPrecondition } from './errors.js';
import { SUCCESS_STAGES, UNSUCCESSFUL_STAGES, isFinal, type JobRecord, type JobStage } from './job.js';
import { change, noteReason, scheduledReason, workSucceeded, type JobChange } from './lifecycle.js';

/** A job's current stage by id, or null when no such job is stored. */
export type StageOf = (id: string) => JobStage | null;

/** The jobs `job` waits for before its work may finish: its dependencies, and its children if it completes with them. */
export function awaitedBy(job: Pick<JobRecord, 'dependsOn' | 'children' | 'completeWithChildren'>): string[] {
  return [...(job.dependsOn ?? []), ...(job.completeWithChildren ? (job.children ?? []) : [])];
}

/**
 * Decides what a blocked job does now, given the stages of the jobs it waits for:
 * - waiting on dependencies: released to queued once all succeeded; on a failed one, cancelled or
 *   left blocked per its policy (the reason names the dependency); otherwise its reason is updated;
 * - waiting on children (its own work succeeded): succeeds (or awaits review) once all succeeded,
 *   fails when one ended without success.
 * Null when nothing changes (not blocked, or the reason is already the one recorded).
 */
export function resolveBlocked(job: JobRecord, stageOf: StageOf, now: number): JobChange | null {
  if (job.stage !== 'blocked') return null;
  if (job.awaitingChildren) return resolveChildren(job, stageOf, now);
  const deps = job.dependsOn ?? [];
  const { pending, failed } = classify(deps, stageOf);
  if (failed) {
    const why = `dependency ${failed.id} ended ${failed.stage}`;
    if ((job.onDependencyFailure ?? 'cancel_dependents') === 'cancel_dependents') {
      return change(job, now, 'dependency_failed', 'coordinator', why, { stage: 'cancelled', endedAt: now, reason: `${why}; cancelled (on_dependency_failure = cancel dependents)` });
    }
    return noteReason(job, `${why}; blocked until an operator requeues ${failed.id} or cancels this job`, now, 'dependency_failed');
  }
  if (pending.length > 0) return noteReason(job, waitingText(pending, deps.length, 'dependency', 'dependencies'), now);
  // A delayed job released before its time still waits for it.
  const notBefore = Math.max(now, job.runAt ?? now);
  const reason = notBefore > now ? scheduledReason(notBefore) : '';
  return change(job, now, 'released', 'coordinator', deps.length ? `all ${deps.length} dependencies succeeded` : '', { stage: 'queued', notBefore, reason });
}

function resolveChildren(job: JobRecord, stageOf: StageOf, now: number): JobChange | null {
  const children = job.children ?? [];
  const { pending, failed } = classify(children, stageOf);
  if (failed) {
    const why = `child ${failed.id} ended ${failed.stage}`;
    return change(job, now, 'child_failed', 'coordinator', why, { stage: 'failed', awaitingChildren: false, endedAt: now, reason: why });
  }
  if (pending.length > 0) return noteReason(job, `its own work succeeded; ${waitingText(pending, children.length, 'child', 'children')}`, now);
  return workSucceeded(job, now, 'succeeded', 'coordinator', `all ${children.length} children succeeded`);
}

function classify(ids: readonly string[], stageOf: StageOf): { pending: string[]; failed: { id: string; stage: JobStage } | null } {
  const pending: string[] = [];
  for (const id of ids) {
    const stage = stageOf(id);
    if (stage !== null && SUCCESS_STAGES.has(stage)) continue;
    if (stage !== null && UNSUCCESSFUL_STAGES.has(stage)) return { pending, failed: { id, stage } };
    pending.push(id);
  }
  return { pending, failed: null };
}

function waitingText(pending: readonly string[], total: number, one: string, many: string): string {
  const shown = pending.slice(0, 5).join(', ') + (pending.length > 5 ? `, and ${pending.length - 5} more` : '');
  return `waiting for ${pending.length} of ${total} ${total === 1 ? one : many}: ${shown}`;
}

/** Records `dependentId` among the jobs waiting for `job` (no event: a link, not news). Null if already there. */
export function linkDependent(job: JobRecord, dependentId: string, now: number): JobChange | null {
  const dependents = job.dependents ?? [];
  if (dependents.includes(dependentId)) return null;
  return { job: { ...job, dependents: [...dependents, dependentId], revision: job.revision + 1, updatedAt: now }, event: null };
}

/**
 * Records new children on a parent that has not finished (so a parent's completion and new children
 * are ordered by the compare-and-set on the parent). The event says how many were added.
 */
export function linkChildren(parent: JobRecord, childIds: readonly string[], now: number, actor: string): JobChange {
  if (isFinal(parent.stage)) {
    throw failedPrecondition(`parent job ${parent.id} is ${parent.stage}; children can be added only to a job that has not finished`);
  }
  const existing = parent.children ?? [];
  const added = childIds.filter((id) => !existing.includes(id));
  const children = [...existing, ...added];
  const reason = parent.awaitingChildren ? `its own work succeeded; waiting for ${children.length} children` : parent.reason;
  return change(parent, now, 'children_added', actor, `${added.length} ${added.length === 1 ? 'child' : 'children'} added`, { children, reason });
}

/**
 * A cycle in the graph reachable from `starts`, as the list of ids along it with the first repeated
 * at the end (A, B, A), or null. `edges(id)` lists the jobs `id` waits for; ids it does not know
 * return an empty list. Iterative (a chain of thousands must not overflow the stack).
 */
export function findCycle(starts: Iterable<string>, edges: (id: string) => readonly string[]): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  for (const start of starts) {
    if (state.has(start)) continue;
    const path: string[] = [];
    const stack: { id: string; next: number }[] = [{ id: start, next: 0 }];
    state.set(start, 'open');
    path.push(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const out = edges(top.id);
      if (top.next >= out.length) {
        state.set(top.id, 'done');
        stack.pop();
        path.pop();
        continue;
      }
      const to = out[top.next++]!;
      const seen = state.get(to);
      if (seen === 'open') return [...path.slice(path.indexOf(to)), to];
      if (seen === 'done') continue;
      state.set(to, 'open');
      path.push(to);
      stack.push({ id: to, next: 0 });
    }
  }
  return null;
}

/** "a → b → a", with each id shown through `label` (a sibling's key rather than a new id). */
export function describeCycle(cycle: readonly string[], label: (id: string) => string = (id) => id): string {
  return cycle.map(label).join(' → ');
}

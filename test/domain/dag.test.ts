/**
 * The workflow graph rules: when a blocked job is released, cancelled, left blocked or finished;
 * parents that complete with their children; reverse links; and cycle detection (a property: any
 * random DAG is accepted, and adding one back-edge is refused, naming a cycle that exists).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeCycle, findCycle, linkChildren, linkDependent, resolveBlocked, type StageOf } from '../../src/domain/dag.js';
import type { JobRecord, JobStage } from '../../src/domain/job.js';
import { cancel, complete, newJob, type AttemptReport } from '../../src/domain/lifecycle.js';
import { expectCode, queued, RETRY, running, spec, T0 } from './helpers.js';

const ok: AttemptReport = { outcome: 'succeeded', exitCode: 0, message: '' };

function blocked(dependsOn: string[], overrides: Parameters<typeof spec>[0] = {}): JobRecord {
  return newJob(spec({ dependsOn, ...overrides }), 'job-x', T0, 'client:test').job;
}

const stages = (table: Record<string, JobStage>): StageOf => (id) => table[id] ?? null;

describe('submit with dependencies', () => {
  it('starts blocked, naming what it waits for', () => {
    const job = blocked(['a', 'b']);
    expect(job).toMatchObject({ stage: 'blocked', dependsOn: ['a', 'b'], reason: 'waiting for 2 dependencies: a, b' });
  });
  it('a job without dependencies starts queued', () => {
    expect(queued().stage).toBe('queued');
  });
});

describe('resolveBlocked (dependencies)', () => {
  it('releases to queued once every dependency succeeded or was shipped', () => {
    const { job, event } = resolveBlocked(blocked(['a', 'b']), stages({ a: 'succeeded', b: 'shipped' }), T0 + 5)!;
    expect(job).toMatchObject({ stage: 'queued', notBefore: T0 + 5, reason: '' });
    expect(event).toMatchObject({ kind: 'released', fromStage: 'blocked', toStage: 'queued', actor: 'coordinator' });
  });

  it.each(['queued', 'running', 'blocked', 'awaiting_review'] as JobStage[])('keeps waiting while a dependency is %s, updating the reason once', (stage) => {
    const change = resolveBlocked(blocked(['a', 'b']), stages({ a: 'succeeded', b: stage }), T0)!;
    expect(change.job).toMatchObject({ stage: 'blocked', reason: 'waiting for 1 of 2 dependencies: b' });
    expect(resolveBlocked(change.job, stages({ a: 'succeeded', b: stage }), T0)).toBeNull();
  });

  it.each(['failed', 'cancelled', 'dead', 'rejected'] as JobStage[])('a %s dependency cancels the dependent by default (reason names it)', (stage) => {
    const { job, event } = resolveBlocked(blocked(['a', 'b']), stages({ a: 'succeeded', b: stage }), T0)!;
    expect(job).toMatchObject({ stage: 'cancelled', endedAt: T0 });
    expect(job.reason).toContain(`dependency b ended ${stage}`);
    expect(event).toMatchObject({ kind: 'dependency_failed', toStage: 'cancelled' });
  });

  it('with leave_blocked, a failed dependency leaves the job blocked with the reason shown; it is released after a requeued success', () => {
    const job = blocked(['a'], { onDependencyFailure: 'leave_blocked' });
    const left = resolveBlocked(job, stages({ a: 'failed' }), T0)!.job;
    expect(left.stage).toBe('blocked');
    expect(left.reason).toContain('dependency a ended failed; blocked until an operator requeues a or cancels this job');
    expect(resolveBlocked(left, stages({ a: 'failed' }), T0)).toBeNull();
    expect(resolveBlocked(left, stages({ a: 'queued' }), T0)!.job.reason).toBe('waiting for 1 of 1 dependency: a');
    expect(resolveBlocked(left, stages({ a: 'succeeded' }), T0)!.job.stage).toBe('queued');
  });

  it('does nothing to a job that is not blocked', () => {
    expect(resolveBlocked(queued(), stages({}), T0)).toBeNull();
  });

  it('a missing dependency counts as not finished', () => {
    expect(resolveBlocked(blocked(['gone']), stages({}), T0)!.job.stage).toBe('blocked');
  });
});

describe('parents that complete with their children', () => {
  const parent = (): JobRecord => {
    const p = running('f1', { completeWithChildren: true });
    return linkChildren(p, ['c1', 'c2'], T0, 'op').job;
  };

  it('a successful attempt waits (blocked) for the children', () => {
    const { job, event } = complete(parent(), 'f1', 1, ok, T0 + 1, RETRY, 0);
    expect(job).toMatchObject({ stage: 'blocked', awaitingChildren: true, endedAt: null });
    expect(event).toMatchObject({ kind: 'awaiting_children', toStage: 'blocked' });
  });

  it('succeeds when every child succeeded; fails when one did not', () => {
    const waiting = complete(parent(), 'f1', 1, ok, T0 + 1, RETRY, 0).job;
    expect(resolveBlocked(waiting, stages({ c1: 'succeeded', c2: 'running' }), T0)!.job).toMatchObject({ stage: 'blocked', reason: 'its own work succeeded; waiting for 1 of 2 children: c2' });
    expect(resolveBlocked(waiting, stages({ c1: 'succeeded', c2: 'shipped' }), T0 + 2)!.job).toMatchObject({ stage: 'succeeded', endedAt: T0 + 2, awaitingChildren: false });
    const failed = resolveBlocked(waiting, stages({ c1: 'succeeded', c2: 'dead' }), T0 + 2)!.job;
    expect(failed).toMatchObject({ stage: 'failed', reason: 'child c2 ended dead' });
  });

  it('with review required too, all children succeeding leads to awaiting_review', () => {
    const p = linkChildren(running('f1', { completeWithChildren: true, requireReview: true }), ['c1'], T0, 'op').job;
    const waiting = complete(p, 'f1', 1, ok, T0 + 1, RETRY, 0).job;
    expect(resolveBlocked(waiting, stages({ c1: 'succeeded' }), T0)!.job.stage).toBe('awaiting_review');
  });

  it('without children, the attempt succeeds at once', () => {
    expect(complete(running('f1', { completeWithChildren: true }), 'f1', 1, ok, T0, RETRY, 0).job.stage).toBe('succeeded');
  });

  it('children cannot be added to a finished parent', () => {
    const done = cancel(queued(), T0, 'op', '')!.job;
    expect(expectCode(() => linkChildren(done, ['c'], T0, 'op'), 'failed_precondition').message).toContain('is cancelled');
  });
});

describe('links', () => {
  it('linkDependent records a dependent once, without an event', () => {
    const once = linkDependent(queued(), 'd1', T0)!;
    expect(once.job.dependents).toEqual(['d1']);
    expect(once.event).toBeNull();
    expect(linkDependent(once.job, 'd1', T0)).toBeNull();
  });
});

describe('findCycle', () => {
  const graph = (edges: Record<string, string[]>) => (id: string): readonly string[] => edges[id] ?? [];

  it('names the cycle A → B → A', () => {
    const cycle = findCycle(['A'], graph({ A: ['B'], B: ['A'] }));
    expect(describeCycle(cycle!)).toBe('A → B → A');
  });

  it('finds a self-loop and a longer cycle reached through a prefix', () => {
    expect(findCycle(['X'], graph({ X: ['X'] }))).toEqual(['X', 'X']);
    expect(findCycle(['S'], graph({ S: ['A'], A: ['B'], B: ['C'], C: ['A'] }))).toEqual(['A', 'B', 'C', 'A']);
  });

  it('accepts a diamond and a long chain (no recursion limit)', () => {
    expect(findCycle(['D'], graph({ D: ['B', 'C'], B: ['A'], C: ['A'] }))).toBeNull();
    const chain: Record<string, string[]> = {};
    for (let i = 1; i < 20_000; i++) chain[`n${i}`] = [`n${i - 1}`];
    expect(findCycle(['n19999'], graph(chain))).toBeNull();
  });

  /** A random DAG: edges only from a higher index to a lower one. */
  const dagArb = fc.integer({ min: 2, max: 30 }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      edges: fc.array(fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.nat()), { maxLength: 80 }).map((pairs) => pairs.map(([from, r]) => [from, r % from] as const)),
    }),
  );

  it('property: every random DAG is accepted; adding a back-edge along an existing path is refused with a real cycle', () => {
    fc.assert(
      fc.property(dagArb, fc.nat(), ({ n, edges }, pick) => {
        const out = new Map<string, string[]>();
        for (let i = 0; i < n; i++) out.set(`j${i}`, []);
        for (const [from, to] of edges) out.get(`j${from}`)!.push(`j${to}`);
        const edgesOf = (id: string): readonly string[] => out.get(id) ?? [];
        const all = [...out.keys()];
        expect(findCycle(all, edgesOf)).toBeNull();
        if (edges.length === 0) return;
        // Back-edge: from the target of an existing edge back to its source closes a cycle.
        const [from, to] = edges[pick % edges.length]!;
        out.get(`j${to}`)!.push(`j${from}`);
        const cycle = findCycle(all, edgesOf);
        expect(cycle).not.toBeNull();
        expect(cycle![0]).toBe(cycle!.at(-1));
        for (let i = 0; i + 1 < cycle!.length; i++) expect(edgesOf(cycle![i]!)).toContain(cycle![i + 1]);
      }),
      { numRuns: 300 },
    );
  });
});

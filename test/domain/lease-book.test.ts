/**
 * The lease book's rules, event by event, with no store and no stream: who may speak about a
 * lease, what each message asks of the store, and what the coordinator decides on its own (grace
 * ends, silent factories, a restart).
 */
import { describe, expect, it } from 'vitest';
import { LeaseBook, type LeaseEffect } from '../../src/domain/lease-book.js';
import { accept, offer } from '../../src/domain/lifecycle.js';
import { queued, T0, TIMINGS } from './helpers.js';

const GRACE = { cancelGraceMs: 1_000, preemptionGraceMs: 2_000 };

/** A book with f1 (2 slots) and f2 (1 slot) connected and welcomed. */
function book(holdLapsedUntil = 0): LeaseBook {
  const b = new LeaseBook(GRACE, holdLapsedUntil);
  for (const [factoryId, slots] of [['f1', 2], ['f2', 1]] as const) {
    b.apply({ t: 'hello', factoryId, sessionId: `s-${factoryId}`, slots, resumed: [] });
    b.apply({ t: 'ready', factoryId, sessionId: `s-${factoryId}` });
  }
  return b;
}

/** Job `id` offered to `factoryId` under epoch 1. */
function offered(b: LeaseBook, factoryId = 'f1', id = 'job-1') {
  const job = offer({ ...queued(), id }, factoryId, T0, TIMINGS).job;
  const effects = b.apply({ t: 'offer', job });
  return { job, effects };
}

/** ... and accepted, as the store wrote it. */
function running(b: LeaseBook, factoryId = 'f1', id = 'job-1') {
  const { job } = offered(b, factoryId, id);
  const started = accept(job, factoryId, 1, T0, TIMINGS).job;
  b.apply({ t: 'written', factoryId, jobId: id, epoch: 1, write: 'accept', job: started });
  return started;
}

const writes = (effects: LeaseEffect[]) => effects.flatMap((e) => (e.t === 'write' ? [e.write.t] : []));
const notices = (effects: LeaseEffect[]) => effects.flatMap((e) => (e.t === 'send' ? [`${e.factoryId}:${e.notice.t}`] : []));

describe('lease book', () => {
  it('an offer takes a slot and is sent to the holder only', () => {
    const b = book();
    const { effects } = offered(b);
    expect(notices(effects)).toEqual(['f1:offer']);
    expect(b.freeSlots('f1')).toBe(1);
    expect(b.lease('job-1')).toMatchObject({ factoryId: 'f1', epoch: 1, phase: 'offered' });
  });

  it.each(['accept', 'decline', 'log', 'result', 'preemption_ack'] as const)('%s from a factory that does not hold the lease changes nothing and is answered lease_revoked', (kind) => {
    const b = book();
    running(b);
    const before = structuredClone(b.lease('job-1'));
    const ref = { factoryId: 'f2', jobId: 'job-1', epoch: 1 };
    const effects = b.apply(
      kind === 'decline'
        ? { t: kind, ...ref, reason: 'not mine' }
        : kind === 'log'
          ? { t: kind, ...ref, chunk: { jobId: 'job-1', epoch: 1, sequence: 0, stream: 'stdout', data: new Uint8Array(), at: T0 } }
          : kind === 'result'
            ? { t: kind, ...ref, report: { outcome: 'succeeded', exitCode: 0, message: '' } }
            : kind === 'preemption_ack'
              ? { t: kind, ...ref, checkpoint: '' }
              : { t: kind, ...ref },
    );
    expect(effects).toEqual([{ t: 'send', factoryId: 'f2', notice: { t: 'revoke', jobId: 'job-1', epoch: 1, reason: 'this factory does not hold that lease', refusal: 'not_holder' } }]);
    expect(b.lease('job-1')).toEqual(before);
  });

  it('a decline under a stale epoch is answered lease_revoked and keeps the newer lease', () => {
    const b = book();
    offered(b);
    const effects = b.apply({ t: 'decline', factoryId: 'f1', jobId: 'job-1', epoch: 0, reason: 'late' });
    expect(notices(effects)).toEqual(['f1:revoke']);
    expect(writes(effects)).toEqual([]);
    expect(b.lease('job-1')).toMatchObject({ epoch: 1, phase: 'offered' });
  });

  it("a holder's decline asks the store to release the lease, also after accepting (a clean give-back)", () => {
    const b = book();
    offered(b);
    expect(writes(b.apply({ t: 'decline', factoryId: 'f1', jobId: 'job-1', epoch: 1, reason: 'busy' }))).toEqual(['release']);
    running(b, 'f2', 'job-2');
    expect(writes(b.apply({ t: 'decline', factoryId: 'f2', jobId: 'job-2', epoch: 1, reason: 'changed my mind' }))).toEqual(['release']);
  });

  it('a heartbeat renews running leases, takes a listed offer as accepted, and revokes what the factory does not hold', () => {
    const b = book();
    running(b, 'f1', 'job-1');
    offered(b, 'f1', 'job-2');
    const effects = b.apply({ t: 'heartbeat', factoryId: 'f1', running: [{ jobId: 'job-1', epoch: 1 }, { jobId: 'job-2', epoch: 1 }, { jobId: 'job-9', epoch: 3 }] });
    expect(writes(effects)).toEqual(['renew', 'resume']);
    expect(notices(effects)).toEqual(['f1:revoke']);
  });

  it('a factory whose running lease lapsed is offered nothing until it is heard from', () => {
    const b = book();
    running(b, 'f2', 'job-1');
    const effects = b.apply({ t: 'tick', now: T0 + 10_000, lapsed: [{ jobId: 'job-1', epoch: 1, factoryId: 'f2' }] });
    expect(writes(effects)).toEqual(['expire']);
    expect(b.freeSlots('f2')).toBe(0);
    b.apply({ t: 'heartbeat', factoryId: 'f2', running: [] });
    // The expiry is written: the lease is gone and the slot free again.
    b.apply({ t: 'written', factoryId: 'f2', jobId: 'job-1', epoch: 1, write: 'expire', job: { ...queued(), id: 'job-1', epoch: 1 } });
    expect(b.freeSlots('f2')).toBe(1);
  });

  it('a claim stored after its factory went silent is given up, not offered: the job goes elsewhere at once', () => {
    const b = book();
    running(b, 'f1', 'job-1');
    const claimed = offer({ ...queued(), id: 'job-2' }, 'f1', T0, TIMINGS).job;
    b.apply({ t: 'claim', job: claimed });
    b.apply({ t: 'tick', now: T0 + 10_000, lapsed: [{ jobId: 'job-1', epoch: 1, factoryId: 'f1' }] });
    const effects = b.apply({ t: 'offer', job: claimed });
    expect(notices(effects)).toEqual([]);
    expect(writes(effects)).toEqual(['expire']);
    // Written: the claim is gone, and the factory is not told about an offer it never had.
    const given = b.apply({ t: 'written', factoryId: 'f1', jobId: 'job-2', epoch: 1, write: 'expire', job: { ...queued(), id: 'job-2', epoch: 1 } });
    expect(notices(given)).toEqual([]);
    expect(b.lease('job-2')).toBeUndefined();
  });

  it('the cancel grace is enforced: a notice once, then the coordinator ends the lease when the grace is over', () => {
    const b = book();
    const job = running(b);
    const marked = { ...job, cancelRequestedAt: T0 + 5, revision: job.revision + 1 };
    const effects = b.apply({ t: 'changed', job: marked, actor: 'user:a', kind: 'cancel_requested', message: 'stop', now: T0 + 5 });
    expect(notices(effects)).toEqual(['f1:cancel']);
    expect(notices(b.apply({ t: 'changed', job: marked, actor: 'user:a', kind: 'cancel_requested', message: 'stop', now: T0 + 6 }))).toEqual([]);
    expect(writes(b.apply({ t: 'tick', now: T0 + 5 + GRACE.cancelGraceMs - 1, lapsed: [] }))).toEqual([]);
    expect(writes(b.apply({ t: 'tick', now: T0 + 5 + GRACE.cancelGraceMs, lapsed: [] }))).toEqual(['stop_overdue']);
  });

  it('the preemption grace is enforced the same way, and only one preemption is made per waiting job', () => {
    const b = book();
    running(b);
    const effects = b.apply({ t: 'preempt', jobId: 'job-1', epoch: 1, forJobId: 'urgent', reason: 'needs the slot', now: T0 });
    expect(notices(effects)).toEqual(['f1:preempt']);
    expect(b.isPreemptingFor('urgent')).toBe(true);
    expect(writes(b.apply({ t: 'tick', now: T0 + GRACE.preemptionGraceMs, lapsed: [] }))).toEqual(['stop_overdue']);
  });

  it('a cancel during a preemption grace takes the stop over without extending it', () => {
    const b = book();
    const job = running(b);
    b.apply({ t: 'preempt', jobId: 'job-1', epoch: 1, forJobId: 'urgent', reason: 'needs the slot', now: T0 });
    const marked = { ...job, cancelRequestedAt: T0 + 1_500, revision: job.revision + 1 };
    const effects = b.apply({ t: 'changed', job: marked, actor: 'user:a', kind: 'cancel_requested', message: 'stop', now: T0 + 1_500 });
    // The factory is told how much of the preemption's grace is left, not a fresh cancel grace.
    expect(effects).toContainEqual(expect.objectContaining({ t: 'send', notice: expect.objectContaining({ t: 'cancel', graceMs: GRACE.preemptionGraceMs - 1_500 }) }));
    expect(b.isPreemptingFor('urgent')).toBe(true);
    const overdue = b.apply({ t: 'tick', now: T0 + GRACE.preemptionGraceMs, lapsed: [] });
    expect(overdue).toContainEqual(expect.objectContaining({ t: 'write', write: { t: 'stop_overdue', kind: 'cancel' } }));
  });

  it('after a start, lapsed leases of factories not yet back are held for the reconnect grace', () => {
    const b = new LeaseBook(GRACE, T0 + 5_000);
    const lapsed = [{ jobId: 'job-1', epoch: 1, factoryId: 'away' }];
    expect(writes(b.apply({ t: 'tick', now: T0 + 4_999, lapsed }))).toEqual([]);
    expect(writes(b.apply({ t: 'tick', now: T0 + 5_000, lapsed }))).toEqual(['expire']);
  });

  it('a factory that was connected since the start and went away is not waited for', () => {
    const b = new LeaseBook(GRACE, T0 + 5_000);
    b.apply({ t: 'hello', factoryId: 'gone', sessionId: 's1', slots: 1, resumed: [] });
    b.apply({ t: 'broke', factoryId: 'gone', sessionId: 's1', until: T0 });
    expect(writes(b.apply({ t: 'tick', now: T0 + 1, lapsed: [{ jobId: 'job-1', epoch: 1, factoryId: 'gone' }] }))).toEqual(['expire']);
  });

  it("a hello resumes what it lists and gives up what an earlier stream held that it does not", () => {
    const b = book();
    running(b, 'f1', 'job-1');
    running(b, 'f1', 'job-2');
    const effects = b.apply({ t: 'hello', factoryId: 'f1', sessionId: 's-f1-again', slots: 2, resumed: [{ jobId: 'job-1', epoch: 1 }] });
    expect(effects.flatMap((e) => (e.t === 'write' ? [`${e.jobId}:${e.write.t}`] : []))).toEqual(['job-2:expire', 'job-1:resume']);
    expect(b.freeSlots('f1')).toBe(0); // not welcomed yet
  });

  it('a broken stream shortens its leases; a break reported after the factory came back changes nothing', () => {
    const b = book();
    running(b, 'f1', 'job-1');
    b.apply({ t: 'hello', factoryId: 'f1', sessionId: 's-new', slots: 2, resumed: [{ jobId: 'job-1', epoch: 1 }] });
    expect(b.apply({ t: 'broke', factoryId: 'f1', sessionId: 's-f1', until: T0 + 1 })).toEqual([]);
    const effects = b.apply({ t: 'broke', factoryId: 'f1', sessionId: 's-new', until: T0 + 1 });
    expect(writes(effects)).toEqual(['shorten']);
    expect(b.factories.has('f1')).toBe(false);
    expect(b.lease('job-1')).toBeUndefined();
  });

  it('a draining factory gives back its offers and is done once its last lease ends', () => {
    const b = book();
    offered(b, 'f1', 'job-1');
    const started = running(b, 'f1', 'job-2');
    expect(writes(b.apply({ t: 'drain', factoryId: 'f1' }))).toEqual(['release']);
    expect(b.freeSlots('f1')).toBe(0);
    b.apply({ t: 'written', factoryId: 'f1', jobId: 'job-1', epoch: 1, write: 'release', job: { ...queued(), id: 'job-1', epoch: 1 } });
    const done = b.apply({ t: 'written', factoryId: 'f1', jobId: 'job-2', epoch: 1, write: 'complete', job: { ...started, stage: 'succeeded', lease: null } });
    expect(notices(done)).toEqual(['f1:result_ack']);
    expect(done.map((e) => e.t)).toContain('drained');
  });

  it('a change another writer made ends the lease and tells its holder; old news is ignored', () => {
    const b = book();
    const job = running(b);
    expect(b.apply({ t: 'changed', job: { ...queued(), id: 'job-1' }, actor: 'client:x', kind: 'submitted', message: '', now: T0 })).toEqual([]);
    const reaped = { ...job, stage: 'queued' as const, lease: null, revision: job.revision + 1 };
    expect(notices(b.apply({ t: 'changed', job: reaped, actor: 'reaper', kind: 'retry_scheduled', message: '', now: T0 }))).toEqual(['f1:revoke']);
    expect(b.lease('job-1')).toBeUndefined();
  });
});

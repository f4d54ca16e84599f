/**
 * Coordinator bugs the lease simulation found, each replayed as a small scripted scenario over the
 * real Fleet, FactorySession and Jobs (MemoryJobStore, fake clock, dispatch passes run by the test).
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectRequestSchema,
  GoodbyeReason,
  type ConnectResponse,
} from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AttemptOutcome } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { openSession, type FactorySession } from '../../src/api/factory-session.js';
import { Fleet } from '../../src/coordinator/fleet.js';
import { JobFeed } from '../../src/coordinator/job-feed.js';
import { Jobs } from '../../src/coordinator/jobs.js';
import type { FleetSettings } from '../../src/coordinator/lease-settings.js';
import type { JobSpec } from '../../src/domain/job.js';
import { accept, offer } from '../../src/domain/lifecycle.js';
import { MemoryJobStore } from '../../src/store/memory/memory-store.js';

const T0 = 1_760_000_000_000;
const SETTINGS: FleetSettings = {
  offerTimeoutMs: 1_000,
  leaseTtlMs: 3_000,
  heartbeatIntervalMs: 1_000,
  heartbeatTimeoutMs: 10_000,
  helloTimeoutMs: 5_000,
  reconnectGraceMs: 500,
  reaperIntervalMs: 100,
  cancelGraceMs: 100,
  maxLogChunkBytes: 1_024,
  retryBackoff: { baseMs: 10, maxMs: 100 },
  preemption: false,
  preemptionGraceMs: 100,
};

type RequestKind = NonNullable<MessageInitShape<typeof ConnectRequestSchema>['kind']>;

function spec(overrides: Partial<JobSpec> = {}): JobSpec {
  return { productId: 'p', title: '', command: ['true'], env: {}, requiredLabels: [], priority: 0, idempotencyKey: '', maxAttempts: 3, timeoutMs: 60_000, ...overrides };
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** A coordinator whose dispatch passes and feed deliveries the test settles explicitly. */
function world() {
  const clock = { t: T0, now(): number { return this.t; } };
  const store = new MemoryJobStore();
  const feed = new JobFeed();
  const queue: (() => void)[] = [];
  const fleet = new Fleet({ store, feed, clock, settings: SETTINGS, log: pino({ level: 'silent' }), random: () => 0.5, schedule: (run) => queue.push(run) });
  const jobs = new Jobs(store, feed, clock, fleet.dispatch.submitClaimer);
  const stop = new AbortController();
  stops.push(() => stop.abort());
  const feedErrors: unknown[] = [];
  void (async () => {
    try {
      for await (const item of feed.topic.subscribe((i) => i.kind === 'update', stop.signal)) {
        if (item.kind === 'update') fleet.onUpdate(item.update);
      }
    } catch (err) {
      feedErrors.push(err);
    }
  })();

  /** Runs queued dispatch passes and lets every promise settle. */
  async function settle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const runs = queue.splice(0);
      if (runs.length === 0) return;
      for (const run of runs) run();
    }
    throw new Error('dispatch never settled');
  }

  function connect(factoryId: string, slots = 1) {
    const sent: ConnectResponse[] = [];
    let ended = false;
    const session: FactorySession = openSession(fleet, { send: (m) => sent.push(m), end: () => (ended = true) }, pino({ level: 'silent' }));
    const send = async (kind: RequestKind): Promise<void> => {
      await session.handle(create(ConnectRequestSchema, { kind }));
      await settle();
    };
    const received = (kind: ConnectResponse['kind']['case']) => sent.filter((m) => m.kind.case === kind).map((m) => m.kind.value as { jobId?: string; epoch?: bigint; reason?: GoodbyeReason });
    return {
      session,
      sent,
      received,
      ended: () => ended,
      hello: (running: { jobId: string; epoch: bigint }[] = []) => send({ case: 'hello', value: { factoryId, slots, runningJobs: running } }),
      send,
    };
  }

  async function submit(overrides: Partial<JobSpec> = {}): Promise<string> {
    clock.t += 1; // distinct creation times, so queue order does not depend on random ids
    const { job } = await jobs.submit(spec(overrides), 'test');
    await settle();
    return job.id;
  }

  async function advance(ms: number): Promise<void> {
    clock.t += ms;
    await fleet.tick();
    await settle();
  }

  return { clock, store, jobs, fleet, queue, settle, connect, submit, advance, feedErrors };
}

describe('regressions found by the lease simulation', () => {
  it('a closed session leaves the fleet, and updates about its jobs do not break the feed watcher', async () => {
    const w = world();
    const f1 = w.connect('f1');
    await f1.hello();
    const x = await w.submit();
    expect(f1.received('leaseOffer').map((o) => o.jobId)).toEqual([x]);
    f1.session.close('stream aborted');
    expect(w.fleet.sessions()).not.toContain(f1.session);
    await w.jobs.cancel(x, 'user', 'no longer needed'); // an update about a job the closed session held
    await w.settle();
    expect(w.feedErrors).toEqual([]);
    // The fleet still reacts to updates: a new factory gets the next job.
    const f2 = w.connect('f2');
    await f2.hello();
    const y = await w.submit();
    expect(f2.received('leaseOffer').map((o) => o.jobId)).toEqual([y]);
  });

  it('a factory is told when its offer lapses, and its slot is free again', async () => {
    const w = world();
    const f1 = w.connect('f1');
    await f1.hello();
    const x = await w.submit();
    await w.advance(SETTINGS.offerTimeoutMs); // no answer: the reaper takes the offer back
    expect(f1.received('leaseRevoked')).toEqual([expect.objectContaining({ jobId: x, epoch: 1n })]);
    // The same factory is the only candidate, so the job comes straight back under a new epoch.
    expect(f1.received('leaseOffer').map((o) => [o.jobId, o.epoch])).toEqual([
      [x, 1n],
      [x, 2n],
    ]);
    expect(f1.session.jobIds()).toEqual([x]);
    expect(w.fleet.leases.book.lease(x)).toMatchObject({ epoch: 2, phase: 'offered' });
  });

  it('an update handled late (older than the lease the session holds) does not revoke that lease', async () => {
    const w = world();
    const f1 = w.connect('f1');
    await f1.hello();
    const x = await w.submit();
    const [submitted] = await w.store.listEvents(x);
    const queuedSnapshot = { ...(await w.store.getJob(x))!, stage: 'queued' as const, epoch: 0, lease: null, attempts: [] };
    expect(w.fleet.leases.book.lease(x)).toMatchObject({ epoch: 1, phase: 'offered' });
    // The 'submitted' update reaches the fleet only now: after the job was offered under epoch 1.
    w.fleet.onUpdate({ event: submitted!, job: queuedSnapshot });
    await w.settle();
    expect(f1.received('leaseRevoked')).toEqual([]);
    expect(w.fleet.leases.book.lease(x)).toMatchObject({ epoch: 1, phase: 'offered' });
  });

  it('a late decline of an older epoch does not free the slot its newer offer holds', async () => {
    const w = world();
    const f1 = w.connect('f1');
    await f1.hello();
    const x = await w.submit();
    await w.advance(SETTINGS.offerTimeoutMs); // epoch 1 lapses, epoch 2 is offered to f1 again
    await f1.send({ case: 'leaseDecline', value: { jobId: x, epoch: 1n, reason: 'late' } });
    expect(w.fleet.leases.book.lease(x)).toMatchObject({ epoch: 2, phase: 'offered' });
    const y = await w.submit();
    expect(f1.received('leaseOffer').map((o) => o.jobId)).not.toContain(y); // one slot, still taken
    expect(f1.session.jobIds().length).toBe(1);
  });

  it('a stale result does not free the slot of the newer lease on the same job', async () => {
    const w = world();
    const f1 = w.connect('f1');
    await f1.hello();
    const x = await w.submit();
    await w.advance(SETTINGS.offerTimeoutMs);
    await f1.send({ case: 'jobResult', value: { jobId: x, epoch: 1n, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    expect(f1.received('leaseRevoked').at(-1)).toMatchObject({ jobId: x, epoch: 1n });
    expect(w.fleet.leases.book.lease(x)).toMatchObject({ epoch: 2, phase: 'offered' });
    await w.submit();
    expect(f1.session.jobIds().length).toBe(1);
  });

  it('a result for an attempt that never started is refused, not acknowledged', async () => {
    const w = world();
    const f1 = w.connect('f1');
    await f1.hello();
    const x = await w.submit();
    await w.submit({ priority: 10 }); // takes f1's slot once the offer of x lapses
    await w.advance(SETTINGS.offerTimeoutMs);
    expect((await w.store.getJob(x))!).toMatchObject({ stage: 'queued', epoch: 1 });
    // f1 ran x anyway (its accept arrived too late) and reports success for epoch 1.
    await f1.send({ case: 'jobResult', value: { jobId: x, epoch: 1n, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    expect(f1.received('resultAck')).toEqual([]);
    expect(f1.received('leaseRevoked').at(-1)).toMatchObject({ jobId: x, epoch: 1n });
    const job = (await w.store.getJob(x))!;
    expect(job).toMatchObject({ stage: 'queued', epoch: 1 });
    expect(job.attempts[0]!.outcome).toBe('released');
  });

  it('a resent result of a recorded attempt is acknowledged again', async () => {
    const w = world();
    const f1 = w.connect('f1');
    await f1.hello();
    const x = await w.submit();
    await f1.send({ case: 'leaseAccept', value: { jobId: x, epoch: 1n } });
    const result: RequestKind = { case: 'jobResult', value: { jobId: x, epoch: 1n, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } };
    await f1.send(result);
    await f1.send(result);
    expect(f1.received('resultAck')).toHaveLength(2);
    expect((await w.store.getJob(x))!.stage).toBe('succeeded');
  });

  it('a draining factory is told goodbye once the result of its last job lands', async () => {
    const w = world();
    const f1 = w.connect('f1');
    await f1.hello();
    const x = await w.submit();
    await f1.send({ case: 'leaseAccept', value: { jobId: x, epoch: 1n } });
    await f1.send({ case: 'drain', value: { reason: 'maintenance' } });
    expect(f1.received('goodbye')).toEqual([]);
    await f1.send({ case: 'jobResult', value: { jobId: x, epoch: 1n, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    expect(f1.sent.map((m) => m.kind.case).slice(-2)).toEqual(['resultAck', 'goodbye']);
    expect(f1.received('goodbye')[0]).toMatchObject({ reason: GoodbyeReason.DRAINED });
    expect(f1.ended()).toBe(true);
  });

  it.each([0, 1, 2, 3, 4, 6, 8])('no offer beyond the slots, or before welcome, while hello resumes leases (dispatch %i turns later)', async (turns) => {
    const w = world();
    const x = await w.submit();
    await w.jobs.mutate(x, (job) => offer(job, 'f1', w.clock.now(), SETTINGS));
    await w.jobs.mutate(x, (job) => accept(job, 'f1', 1, w.clock.now(), SETTINGS));
    await w.submit(); // runnable, waiting for a slot
    const f1 = w.connect('f1', 1);
    // A dispatch pass (the shared-store poll, a tick) starts while hello is being handled.
    w.fleet.requestDispatch();
    const queued = w.queue.splice(0);
    expect(queued).toHaveLength(1);
    const hello = f1.session.handle(create(ConnectRequestSchema, { kind: { case: 'hello', value: { factoryId: 'f1', slots: 1, runningJobs: [{ jobId: x, epoch: 1n }] } } }));
    for (let i = 0; i < turns; i++) await null;
    for (const run of queued) run();
    await hello;
    await w.settle();
    expect(f1.sent[0]!.kind.case).toBe('welcome');
    expect(f1.session.jobIds().length).toBeLessThanOrEqual(1);
    expect(f1.received('leaseOffer')).toEqual([]);
  });
});

describe('the reconnect grace of a broken stream', () => {
  /** f1 runs a job under epoch 1. */
  async function runningOnF1() {
    const w = world();
    const f1 = w.connect('f1');
    await f1.hello();
    const x = await w.submit();
    await f1.send({ case: 'leaseAccept', value: { jobId: x, epoch: 1n } });
    return { w, f1, x };
  }

  /** ... heartbeats once 100 ms later, and then its stream breaks. */
  async function runningThenBroken() {
    const { w, f1, x } = await runningOnF1();
    w.clock.t += 100;
    await f1.send({ case: 'heartbeat', value: { sequence: 1n, runningJobs: [{ jobId: x, epoch: 1n }] } });
    expect((await w.store.getJob(x))!.lease!.expiresAt).toBe(w.clock.t + SETTINGS.leaseTtlMs);
    const brokeAt = w.clock.t;
    await f1.session.broke('stream aborted');
    return { w, f1, x, brokeAt };
  }

  it('shortens the leases to the grace; the reaper then takes the job and fences the late result', async () => {
    const { w, f1, x, brokeAt } = await runningThenBroken();
    expect((await w.store.getJob(x))!).toMatchObject({ stage: 'running', epoch: 1, lease: { factoryId: 'f1', epoch: 1, expiresAt: brokeAt + SETTINGS.reconnectGraceMs } });
    await w.advance(SETTINGS.reconnectGraceMs - 1);
    expect((await w.store.getJob(x))!.stage).toBe('running'); // still within the grace
    await w.advance(1);
    const reaped = (await w.store.getJob(x))!;
    expect(reaped).toMatchObject({ stage: 'queued', lease: null });
    expect(reaped.attempts[0]).toMatchObject({ epoch: 1, factoryId: 'f1', outcome: 'lease_expired' });
    // The dead factory's result arrives anyway (on a stream it opened again): fenced, not recorded.
    w.clock.t += SETTINGS.retryBackoff.maxMs;
    const again = w.connect('f1');
    await again.hello();
    await again.send({ case: 'jobResult', value: { jobId: x, epoch: 1n, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    expect(again.received('resultAck').filter((a) => a.epoch === 1n)).toEqual([]);
    expect(again.received('leaseRevoked')).toContainEqual(expect.objectContaining({ jobId: x, epoch: 1n }));
    const after = (await w.store.getJob(x))!;
    expect(after.attempts[0]!.outcome).toBe('lease_expired');
    expect(after.stage).not.toBe('succeeded');
    expect(f1.ended()).toBe(false); // a broken stream is not ended by the coordinator: it is gone already
  });

  it('a factory that reconnects within the grace keeps its job under the same epoch, for a whole TTL', async () => {
    const { w, x } = await runningThenBroken();
    w.clock.t += SETTINGS.reconnectGraceMs - 10;
    const again = w.connect('f1');
    await again.hello([{ jobId: x, epoch: 1n }]);
    const welcome = again.received('welcome')[0] as { keptLeases?: { jobId: string; epoch: bigint }[] };
    expect(welcome.keptLeases).toEqual([expect.objectContaining({ jobId: x, epoch: 1n })]);
    expect((await w.store.getJob(x))!.lease).toEqual({ factoryId: 'f1', epoch: 1, expiresAt: w.clock.t + SETTINGS.leaseTtlMs });
    await w.advance(SETTINGS.leaseTtlMs - 1);
    expect((await w.store.getJob(x))!).toMatchObject({ stage: 'running', epoch: 1 });
  });

  it('a break noticed only after the factory is back on a new stream leaves the renewed lease alone', async () => {
    const { w, f1, x } = await runningOnF1();
    const again = w.connect('f1');
    await again.hello([{ jobId: x, epoch: 1n }]); // replaces f1's stream (goodbye REPLACED)
    await f1.session.broke('stream aborted'); // the transport notices the old stream's end late
    expect((await w.store.getJob(x))!.lease!.expiresAt).toBe(w.clock.t + SETTINGS.leaseTtlMs);
  });

  it('a goodbye keeps the leases for their TTL (the factory is asked to come back, not presumed dead)', async () => {
    const { w, f1, x } = await runningOnF1();
    w.fleet.stop();
    await f1.session.broke('stream finished'); // the transport ends the stream after the goodbye
    expect(f1.received('goodbye')[0]).toMatchObject({ reason: GoodbyeReason.SHUTDOWN });
    expect((await w.store.getJob(x))!.lease!.expiresAt).toBe(w.clock.t + SETTINGS.leaseTtlMs);
  });
});

/**
 * Factory credentials end to end over native gRPC: enrollment (and expired, reused, forged and
 * misdirected enrollment tokens), the scope a factory token carries (its identity, its labels, its
 * products, its leases), rotation with an overlap, revocation mid-stream, and the stream limits.
 */
import { Code, type Client } from '@connectrpc/connect';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { FactoryService, GoodbyeReason } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { LogStream } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { hashSecret, newSecret } from '../../src/coordinator/secrets.js';
import { waitForStage } from '../support/jobs.js';
import { RawFactory } from '../support/raw-factory.js';
import { enrolledFactory, grpcClient, startSecureServer, type SecureServer } from './helpers.js';

let server: SecureServer;
let jobs: Client<typeof JobService>;
let admin: Client<typeof AdminService>;
const factories: RawFactory[] = [];

function factory(token: string | null): RawFactory {
  const f = new RawFactory(server.grpcUrl, token ? { token } : {});
  factories.push(f);
  return f;
}

async function enrollmentToken(opts: { factoryId?: string; labels?: { key: string; values: string[] }[]; products?: string[] } = {}): Promise<string> {
  const res = await admin.createEnrollmentToken({ allowedLabels: opts.labels ?? [], allowedProducts: opts.products ?? [], factoryId: opts.factoryId ?? '' });
  return res.token;
}

beforeAll(async () => {
  server = await startSecureServer({
    leaseTtlMs: 1_000,
    heartbeatIntervalMs: 300,
    reaperIntervalMs: 100,
    retryBaseMs: 10,
    retryMaxMs: 20,
    helloTimeoutMs: 500,
    heartbeatTimeoutMs: 60_000,
    tokenRotationOverlapMs: 400,
    maxStreamsPerFactory: 2,
  });
  jobs = grpcClient(JobService, server, server.keys.operator);
  admin = grpcClient(AdminService, server, server.keys.admin);
});
afterEach(() => {
  for (const f of factories.splice(0)) f.breakStream();
});
afterAll(() => server.stop());

describe('enrollment', () => {
  it('trades a one-time token for a factory token that opens the stream', async () => {
    const token = await enrollmentToken({ labels: [{ key: 'os', values: [] }], products: ['alpha'] });
    expect(token).toMatch(/^gfe_[A-Za-z0-9_-]{43}$/); // 256 random bits
    const enrolled = await grpcClient(FactoryService, server, token).enroll({ factoryId: 'enrolled-1' });
    expect(enrolled).toMatchObject({ factoryId: 'enrolled-1', allowedProducts: ['alpha'], allowedLabels: [expect.objectContaining({ key: 'os', values: [] })] });
    expect(enrolled.factoryToken).toMatch(/^gff_[A-Za-z0-9_-]{43}$/);
    const f = factory(enrolled.factoryToken);
    f.hello('enrolled-1', { labels: { os: 'linux' } });
    await f.next('welcome');
  });

  it('stores only hashes of tokens and keys', async () => {
    const token = await enrollmentToken();
    const { factoryToken } = await grpcClient(FactoryService, server, token).enroll({ factoryId: 'hashed' });
    expect(await server.security.store.findEnrollmentToken(token)).toBeNull();
    expect((await server.security.store.findEnrollmentToken(hashSecret(token)))?.usedBy).toBe('hashed');
    const credential = await server.security.store.getFactoryCredential('hashed');
    expect(JSON.stringify(credential)).not.toContain(factoryToken);
    expect(credential?.tokenHash).toBe(hashSecret(factoryToken));
    const keys = await server.security.store.listApiKeys();
    for (const k of keys) expect(Object.values(server.keys)).not.toContain(k.keyHash);
  });

  it('refuses a token used twice', async () => {
    const token = await enrollmentToken();
    await grpcClient(FactoryService, server, token).enroll({ factoryId: 'once' });
    await expect(grpcClient(FactoryService, server, token).enroll({ factoryId: 'twice' })).rejects.toMatchObject({
      code: Code.Unauthenticated,
      rawMessage: expect.stringMatching(/was already used \(by factory "once"/),
    });
  });

  it('refuses an expired token', async () => {
    const token = newSecret('enrollment');
    const now = Date.now();
    await server.security.store.insertEnrollmentToken({
      id: 'enr_expired',
      tokenHash: hashSecret(token),
      createdAt: now - 60_000,
      expiresAt: now - 1,
      createdBy: 'test',
      allowedLabels: [],
      allowedProducts: [],
      factoryId: '',
      description: '',
      usedAt: null,
      usedBy: null,
    });
    await expect(grpcClient(FactoryService, server, token).enroll({ factoryId: 'late' })).rejects.toMatchObject({
      code: Code.Unauthenticated,
      rawMessage: expect.stringMatching(/enrollment token enr_expired expired at/),
    });
  });

  it('refuses forged tokens: unknown, malformed, or another kind of credential', async () => {
    await expect(grpcClient(FactoryService, server, newSecret('enrollment')).enroll({ factoryId: 'forger' })).rejects.toMatchObject({
      code: Code.Unauthenticated,
      rawMessage: 'unknown enrollment token',
    });
    const real = await enrollmentToken();
    const flipped = real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A');
    await expect(grpcClient(FactoryService, server, flipped).enroll({ factoryId: 'forger' })).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(grpcClient(FactoryService, server, 'gfe_short').enroll({ factoryId: 'forger' })).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(grpcClient(FactoryService, server, server.keys.admin).enroll({ factoryId: 'forger' })).rejects.toMatchObject({ code: Code.PermissionDenied });
    // The real token still works once: failed attempts did not use it up.
    await grpcClient(FactoryService, server, real).enroll({ factoryId: 'forger-victim' });
  });

  it('a token made for one factory id enrolls no other; an enrolled id cannot be taken over', async () => {
    const token = await enrollmentToken({ factoryId: 'only-me' });
    await expect(grpcClient(FactoryService, server, token).enroll({ factoryId: 'someone-else' })).rejects.toMatchObject({ code: Code.PermissionDenied });
    await grpcClient(FactoryService, server, token).enroll({ factoryId: 'only-me' });
    const second = await enrollmentToken();
    await expect(grpcClient(FactoryService, server, second).enroll({ factoryId: 'only-me' })).rejects.toMatchObject({ code: Code.AlreadyExists });
  });
});

describe('factory scope', () => {
  it('the token decides who the factory is: another id in hello is refused, an empty one means the token', async () => {
    const token = await enrolledFactory(server, 'scoped-a');
    const impostor = factory(token);
    impostor.hello('scoped-b');
    const { error } = await impostor.closed();
    expect(error).toMatchObject({ code: Code.PermissionDenied, rawMessage: expect.stringContaining('is not the identity of this factory token ("scoped-a")') });
    const anonymous = factory(token);
    anonymous.hello('');
    await anonymous.next('welcome');
    expect((await admin.listFactories({})).factories.map((f) => f.id)).toContain('scoped-a');
  });

  it('refuses labels beyond the enrollment (label escalation), with the grants in the message', async () => {
    const token = await enrolledFactory(server, 'labelled', [
      { key: 'os', values: [] },
      { key: 'gpu', values: ['t4'] },
    ]);
    const greedy = factory(token);
    greedy.hello('labelled', { labels: { os: 'linux', gpu: 'a100' } });
    expect((await greedy.closed()).error).toMatchObject({ code: Code.PermissionDenied, rawMessage: expect.stringMatching(/gpu=a100 were not granted at enrollment \(granted: os=\*, gpu=t4\)/) });
    const extra = factory(token);
    extra.hello('labelled', { labels: { os: 'linux', tier: 'prod' } });
    expect((await extra.closed()).error?.code).toBe(Code.PermissionDenied);
    const honest = factory(token);
    honest.hello('labelled', { labels: { os: 'linux', gpu: 't4' } });
    await honest.next('welcome');
  });

  it('is offered only the products its enrollment allows', async () => {
    const { job: beta } = await jobs.submitJob({ productId: 'beta-only', command: ['true'] });
    const { job: alpha } = await jobs.submitJob({ productId: 'alpha-only', command: ['true'] });
    const token = await enrolledFactory(server, 'alpha-factory', [], ['alpha-only']);
    const f = factory(token);
    f.hello('alpha-factory');
    const offer = await f.next('leaseOffer');
    expect(offer.jobId).toBe(alpha!.id);
    expect(offer.job!.productId).toBe('alpha-only');
    expect((await jobs.getJob({ jobId: beta!.id })).job!.stage).toBe(JobStage.QUEUED);
    await jobs.cancelJob({ jobId: beta!.id });
  });

  it("factory A cannot act on factory B's lease, even with B's valid epoch; the job is unchanged", async () => {
    const b = factory(await enrolledFactory(server, 'holder-b'));
    b.hello('holder-b');
    await b.next('welcome');
    const { job } = await jobs.submitJob({ productId: 'victim', command: ['sleep', '1'] });
    const offer = await b.next('leaseOffer', (o) => o.jobId === job!.id);
    b.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    await waitForStage(jobs, job!.id, JobStage.RUNNING);
    const before = (await jobs.getJob({ jobId: job!.id })).job!;

    const a = factory(await enrolledFactory(server, 'attacker-a'));
    a.hello('attacker-a');
    await a.next('welcome');
    const ref = { jobId: job!.id, epoch: offer.epoch };
    a.send({ case: 'jobResult', value: { ...ref, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    a.send({ case: 'logChunk', value: { ...ref, sequence: 0n, stream: LogStream.STDOUT, data: new TextEncoder().encode('forged output') } });
    a.send({ case: 'leaseAccept', value: ref });
    a.send({ case: 'preemptionAck', value: ref });
    a.send({ case: 'heartbeat', value: { sequence: 1n, runningJobs: [ref] } });
    for (let i = 0; i < 5; i++) await a.next('leaseRevoked', (r) => r.jobId === job!.id && r.epoch === offer.epoch);
    await a.next('heartbeatAck'); // the heartbeat renewed nothing for A

    const after = (await jobs.getJob({ jobId: job!.id })).job!;
    expect(after).toEqual(before);
    const chunks = [];
    for await (const res of jobs.tailLogs({ jobId: job!.id })) chunks.push(res);
    expect(chunks).toEqual([]);
    b.send({ case: 'jobResult', value: { ...ref, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 } });
    await b.next('resultAck');
    expect((await jobs.getJob({ jobId: job!.id })).job!.attempts.map((x) => x.factoryId)).toEqual(['holder-b']);
  });

  it('limits open streams per identity', async () => {
    const token = await enrolledFactory(server, 'greedy-streams');
    const first = factory(token);
    const second = factory(token);
    first.hello('greedy-streams');
    await first.next('welcome');
    second.hello('greedy-streams');
    await second.next('welcome'); // replaces the first (goodbye REPLACED), which frees its place
    expect((await first.next('goodbye')).reason).toBe(GoodbyeReason.REPLACED);
    await first.closed();
    const waiting = factory(token); // no hello yet: counts against the identity
    await expect.poll(() => server.factoryStreams.count('greedy-streams')).toBe(2);
    const third = factory(token);
    expect((await third.closed()).error).toMatchObject({ code: Code.ResourceExhausted, rawMessage: expect.stringMatching(/already has 2 open streams \(the limit is 2\)/) });
    waiting.breakStream();
  });

  it('refuses a heartbeat or hello listing more jobs than the factory could hold (twice its slots)', async () => {
    const refs = (n: number) => Array.from({ length: n }, (_, i) => ({ jobId: `job_unknown_${i}`, epoch: 1n }));
    const token = await enrolledFactory(server, 'many-jobs');
    const beating = factory(token);
    beating.hello('many-jobs', { slots: 2 });
    await beating.next('welcome');
    beating.send({ case: 'heartbeat', value: { sequence: 1n, runningJobs: refs(4) } }); // the bound itself is fine
    await beating.next('heartbeatAck');
    beating.send({ case: 'heartbeat', value: { sequence: 2n, runningJobs: refs(5_000) } });
    expect((await beating.closed()).error).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining('heartbeat lists 5000 jobs; a factory with 2 slots may list at most 4') });

    const greeting = factory(token);
    greeting.hello('many-jobs', { slots: 1, running: refs(3) });
    expect((await greeting.closed()).error).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining('hello lists 3 jobs; a factory with 1 slot may list at most 2') });
  });

  it('drops a stream that never says hello at the deadline, even with a valid token', async () => {
    const silent = factory(await enrolledFactory(server, 'silent'));
    const { error } = await silent.closed();
    expect(error).toMatchObject({ code: Code.DeadlineExceeded, rawMessage: expect.stringContaining('no hello within 500 ms') });
  });
});

describe('rotation and revocation', () => {
  it('rotation hands the connected factory a new token; the old one works only for the overlap', async () => {
    const old = await enrolledFactory(server, 'rotating');
    const f = factory(old);
    f.hello('rotating');
    await f.next('welcome');
    const res = await admin.rotateFactoryToken({ factoryId: 'rotating' });
    expect(res.delivered).toBe(true);
    const pushed = await f.next('tokenRotated');
    expect(pushed.factoryToken).toBe(res.factoryToken);
    expect(res.factoryToken).not.toBe(old);
    // Within the overlap both tokens open streams; after it only the new one does.
    const during = factory(old);
    during.hello('rotating');
    await during.next('welcome');
    await expect
      .poll(async () => {
        const probe = factory(old);
        probe.hello('rotating');
        const first = await probe.next('welcome').then(
          () => 'welcome',
          async () => (await probe.closed()).error?.rawMessage ?? 'closed',
        );
        probe.breakStream();
        return first;
      }, { timeout: 5_000, interval: 100 })
      .toMatch(/replaced by a rotation; its overlap ended/);
    const fresh = factory(res.factoryToken);
    fresh.hello('rotating');
    await fresh.next('welcome');
  });

  it('revocation closes the open stream at once (goodbye REVOKED), refuses reconnects, and leases expire normally', async () => {
    const token = await enrolledFactory(server, 'doomed');
    const f = factory(token);
    f.hello('doomed');
    await f.next('welcome');
    const { job } = await jobs.submitJob({ productId: 'doomed-work', command: ['sleep', '100'] });
    const offer = await f.next('leaseOffer', (o) => o.jobId === job!.id);
    f.send({ case: 'leaseAccept', value: { jobId: offer.jobId, epoch: offer.epoch } });
    await waitForStage(jobs, job!.id, JobStage.RUNNING);

    const started = performance.now();
    const revoked = await admin.revokeFactory({ factoryId: 'doomed', reason: 'laptop stolen' });
    const bye = await f.next('goodbye');
    const ended = await f.closed();
    const elapsed = performance.now() - started;
    expect(revoked.closedStreams).toBe(1);
    expect(bye).toMatchObject({ reason: GoodbyeReason.REVOKED, message: expect.stringContaining('laptop stolen') });
    expect(ended.error).toBeNull();
    expect(elapsed).toBeLessThan(1_000);

    // The lease was not taken early: the job is still RUNNING until the TTL, then back in the queue.
    expect((await jobs.getJob({ jobId: job!.id })).job!.stage).toBe(JobStage.RUNNING);
    for await (const res of jobs.watchJobs({ jobId: job!.id })) {
      if (res.event!.fromStage === JobStage.RUNNING) {
        expect(res.event!.actor).toBe('reaper');
        break;
      }
    }
    expect((await jobs.getJob({ jobId: job!.id })).job!.attempts[0]!.outcome).toBe(AttemptOutcome.LEASE_EXPIRED);
    await jobs.cancelJob({ jobId: job!.id });

    const again = factory(token);
    again.hello('doomed');
    expect((await again.closed()).error).toMatchObject({ code: Code.Unauthenticated, rawMessage: expect.stringMatching(/factory "doomed" was revoked at/) });
    await expect(admin.rotateFactoryToken({ factoryId: 'doomed' })).rejects.toMatchObject({ code: Code.FailedPrecondition });
  });
});

/**
 * Review routing (N of M) over native gRPC with real API keys and a real agent process: a job names
 * its reviewers (keys and a group of the product's policy) and the approvals it needs; each ShipJob
 * by an eligible reviewer records an approval (GetJob and the history show who), the job ships with
 * the Nth; a caller who is not a reviewer, and the submitter when the product forbids it, are
 * PERMISSION_DENIED naming why; any eligible reviewer rejects; product defaults route a job that
 * names nobody; bad routing (N = 0, N > M, an unknown group) is INVALID_ARGUMENT and stores nothing.
 * The CLI's submit --reviewer / --required-approvals, ship and job show the same.
 */
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { grpcClient } from '../security/helpers.js';
import { cli } from '../support/cli.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let agent: ManagedProcess;
let admin: Client<typeof AdminService>;
const keys: Record<string, string> = {};
const as = (name: string): Client<typeof JobService> => grpcClient(JobService, server, keys[name]!);
const root = mkdtempSync(join(tmpdir(), 'gigafactory-review-'));

beforeAll(async () => {
  server = await startTestServer({ heartbeatIntervalMs: 300, reaperIntervalMs: 100 });
  admin = grpcClient(AdminService, server, null); // loopback development mode: no key needed
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) keys[name] = (await admin.createApiKey({ name, role: ApiKeyRole.OPERATOR })).key;
  await admin.setProductSettings({ productId: 'shop', reviewPolicy: { groups: [{ name: 'release', members: ['carol', 'dave'] }], forbidSelfApproval: true } });
  agent = await spawnAgent({ coordinator: server.grpc.address, id: 'reviewed', slots: 2, workDir: join(root, 'reviewed') });
});
afterAll(async () => {
  await agent.kill('SIGKILL');
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

async function denied(call: Promise<unknown>): Promise<{ code: Code | undefined; message: string }> {
  const err = await call.then(() => null, (e: unknown) => ConnectError.from(e));
  return { code: err?.code, message: err?.rawMessage ?? 'no error' };
}

async function awaitingReview(submitter: string, reviewers: string[], requiredApprovals?: number): Promise<string> {
  const { job } = await as(submitter).submitJob({ productId: 'shop', command: ['true'], reviewers, ...(requiredApprovals !== undefined ? { requiredApprovals } : {}) });
  await waitForStage(as(submitter), job!.id, JobStage.AWAITING_REVIEW);
  return job!.id;
}

describe('N of M approvals', () => {
  it('records each eligible approval and ships with the third; who approved shows in GetJob and the history', async () => {
    const jobId = await awaitingReview('erin', ['alice', 'bob', 'group:release'], 3);
    const waiting = (await as('erin').getJob({ jobId })).job!;
    expect(waiting.requireReview).toBe(true);
    expect(waiting.review).toMatchObject({ eligibleReviewers: ['alice', 'bob', 'carol', 'dave'], requiredApprovals: 3, submittedBy: 'erin', selfApprovalAllowed: false });
    expect(waiting.review!.summary).toBe('0 of 3 approvals; still needed: 3 of alice, bob, carol, dave');
    expect(waiting.reason).toBe('waiting for review: 0 of 3 approvals; still needed: 3 of alice, bob, carol, dave');

    expect(await denied(as('mallory').shipJob({ jobId }))).toEqual({ code: Code.PermissionDenied, message: `mallory is not a reviewer of job ${jobId} and cannot approve it (reviewers: alice, bob, carol, dave)` });
    const first = (await as('alice').shipJob({ jobId, reason: 'diff reviewed' })).job!;
    expect(first.stage).toBe(JobStage.AWAITING_REVIEW);
    expect(first.review!.summary).toBe('1 of 3 approvals: alice ✓; still needed: 2 of bob, carol, dave');
    expect((await as('alice').shipJob({ jobId })).job!.review!.approvals).toHaveLength(1); // approving twice counts once
    await as('bob').shipJob({ jobId });
    expect((await as('bob').getJob({ jobId })).job!.review!.summary).toBe('2 of 3 approvals: alice ✓, bob ✓; still needed: 1 of carol, dave');
    const shipped = (await as('dave').shipJob({ jobId, reason: 'release ok' })).job!;
    expect(shipped.stage).toBe(JobStage.SHIPPED);
    expect(shipped.review!.approvals.map((a) => [a.reviewer, a.note])).toEqual([['alice', 'diff reviewed'], ['bob', ''], ['dave', 'release ok']]);
    expect(shipped.review!.pendingReviewers).toEqual(['carol']);
    const history: string[][] = [];
    const abort = new AbortController();
    for await (const { event } of as('erin').watchJobs({ jobId }, { signal: abort.signal })) {
      if (event!.kind === 'approved' || event!.kind === 'shipped') history.push([event!.kind, event!.actor, event!.message]);
      if (event!.kind === 'shipped') break; // the replayed history ends with it
    }
    abort.abort();
    expect(history).toEqual([
      ['approved', 'alice', '1 of 3 approvals: alice ✓; still needed: 2 of bob, carol, dave (diff reviewed)'],
      ['approved', 'bob', '2 of 3 approvals: alice ✓, bob ✓; still needed: 1 of carol, dave'],
      ['shipped', 'dave', '3 of 3 approvals: alice ✓, bob ✓, dave ✓ (release ok)'],
    ]);
  }, 60_000);

  it('refuses the submitter approving their own job when the product forbids it; any eligible reviewer rejects', async () => {
    const jobId = await awaitingReview('erin', ['erin', 'alice']);
    expect(await denied(as('erin').shipJob({ jobId }))).toEqual({
      code: Code.PermissionDenied,
      message: `erin submitted job ${jobId} and its product does not allow approving your own submission; still needed: 1 of alice`,
    });
    expect((await denied(as('mallory').rejectJob({ jobId, reason: 'no' }))).code).toBe(Code.PermissionDenied);
    const rejected = (await as('alice').rejectJob({ jobId, reason: 'breaks checkout' })).job!;
    expect(rejected.stage).toBe(JobStage.REJECTED);
  }, 60_000);

  it("routes a job that requires review and names nobody to the product's default reviewers", async () => {
    await admin.setProductSettings({ productId: 'docs', reviewPolicy: { groups: [{ name: 'writers', members: ['carol', 'dave'] }], defaultReviewers: ['group:writers'], defaultRequiredApprovals: 2 } });
    const { job } = await as('erin').submitJob({ productId: 'docs', command: ['true'], requireReview: true });
    expect(job!.review).toMatchObject({ reviewers: ['group:writers'], eligibleReviewers: ['carol', 'dave'], requiredApprovals: 2, selfApprovalAllowed: true });
    const { job: plain } = await as('erin').submitJob({ productId: 'docs', command: ['true'] });
    expect(plain!.review).toBeUndefined();
  });
});

describe('bad routing', () => {
  it('refuses N = 0, N > M and an unknown group naming the field, and stores nothing', async () => {
    const before = (await as('erin').listJobs({ productId: 'shop', pageSize: 500 })).jobs.length;
    const refusal = async (reviewers: string[], requiredApprovals?: number) => denied(as('erin').submitJob({ productId: 'shop', command: ['true'], reviewers, ...(requiredApprovals !== undefined ? { requiredApprovals } : {}) }));
    expect(await refusal(['alice'], 0)).toEqual({ code: Code.InvalidArgument, message: 'required_approvals 0 must be at least 1' });
    expect(await refusal(['alice', 'bob'], 3)).toEqual({ code: Code.InvalidArgument, message: 'required_approvals 3 is more than the 2 eligible reviewers (alice, bob)' });
    expect(await refusal(['alice', 'group:qa'])).toEqual({ code: Code.InvalidArgument, message: 'reviewers[1]: group qa is not defined for product shop (known: release)' });
    expect(await refusal(['erin'])).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining('other than the submitter erin') });
    const many = await denied(as('erin').submitJobs({ jobs: [{ productId: 'shop', command: ['true'], reviewers: ['alice'] }, { productId: 'shop', command: ['true'], reviewers: ['group:nope'] }] }));
    expect(many).toEqual({ code: Code.InvalidArgument, message: 'jobs[1]: reviewers[0]: group nope is not defined for product shop (known: release)' });
    expect((await as('erin').listJobs({ productId: 'shop', pageSize: 500 })).jobs.length).toBe(before);
  });

  it('refuses a policy whose groups or defaults do not route', async () => {
    expect(await denied(admin.setProductSettings({ productId: 'shop', reviewPolicy: { defaultReviewers: ['group:ghosts'] } }))).toEqual({
      code: Code.InvalidArgument,
      message: "review_policy: the product's default_reviewers[0]: group ghosts is not defined for product shop (it has no reviewer groups)",
    });
    expect((await denied(admin.setProductSettings({ productId: 'shop', reviewPolicy: { groups: [{ name: 'empty', members: [] }] } }))).message).toBe('review_policy.groups: group empty has no members');
    expect((await admin.getProductSettings({ productId: 'shop' })).settings!.reviewPolicy!.forbidSelfApproval).toBe(true);
  });
});

describe('the CLI', () => {
  it('submits with --reviewer and --required-approvals, ships with each key, and shows the approvals', async () => {
    const run = (key: string, args: string[]) => cli(['--coordinator', server.grpc.address, ...args], { GIGAFACTORY_API_KEY: keys[key]! });
    const submitted = await run('erin', ['submit', '--product', 'shop', '--reviewer', 'alice', '--reviewer', 'group:release', '--required-approvals', '2', '--', 'true']);
    expect(submitted.code).toBe(0);
    const jobId = /^submitted (\S+)$/m.exec(submitted.stdout)![1]!;
    await waitForStage(as('erin'), jobId, JobStage.AWAITING_REVIEW);
    expect((await run('alice', ['ship', jobId])).code).toBe(0);
    const shown = await run('erin', ['job', jobId]);
    expect(shown.stdout).toMatch(/review\s+1 of 2 approvals: alice ✓; still needed: 1 of carol, dave \(reviewers: alice, group:release\)/);
    const refused = await run('mallory', ['ship', jobId]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`mallory is not a reviewer of job ${jobId}`);
    expect((await run('carol', ['ship', jobId])).code).toBe(0);
    expect((await as('erin').getJob({ jobId })).job!.stage).toBe(JobStage.SHIPPED);
    const bad = await run('erin', ['submit', '--product', 'shop', '--reviewer', 'group:qa', '--', 'true']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('reviewers[0]: group qa is not defined for product shop');
    const negative = await run('erin', ['submit', '--product', 'shop', '--reviewer', 'alice', '--required-approvals', '-1', '--', 'true']);
    expect(negative.code).not.toBe(0);
    expect(negative.stderr).toContain('--required-approvals must not be negative, got "-1"');
  }, 60_000);
});

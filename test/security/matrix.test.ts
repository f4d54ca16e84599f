/**
 * The whole role × RPC matrix, over both listeners: every RPC of every service, called with no
 * credential, a malformed header, an unknown token, each operator role, a factory token and an
 * enrollment token. The expected table is written out here, independently of src/server/access.ts,
 * and a test walks the service descriptors so a new RPC cannot go unlisted.
 */
import { ArtifactKind } from '../../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import { create, toJsonString } from '@bufbuild/protobuf';
import { Code, type Client } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminService, ListApiKeysResponseSchema } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { ConnectRequestSchema, FactoryService, type ConnectRequest } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { ScheduleService } from '../../gen/ts/gigafactory/fleet/v1/schedule_service_pb.js';
import { TrackerService } from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import { LeaseService } from '../../gen/ts/gigafactory/fleet/v1/lease_service_pb.js';
import { WeightsService } from '../../gen/ts/gigafactory/fleet/v1/weights_service_pb.js';
import { ACCESS } from '../../src/server/access.js';
import { startTestServer } from '../support/server.js';
import { enrolledFactory, gatewayClient, grpcClient, outcome, startSecureServer, type SecureServer } from './helpers.js';

type Needs = 'viewer' | 'operator' | 'admin' | 'factory' | 'enrollment';

/** Who may call what: the product decision, restated for the test. */
const EXPECTED: Record<string, Needs> = {
  'JobService/SubmitJob': 'operator',
  'JobService/SubmitJobs': 'operator',
  'JobService/GetJob': 'viewer',
  'JobService/ListJobs': 'viewer',
  'JobService/CancelJob': 'operator',
  'JobService/WatchJobs': 'viewer',
  'JobService/TailLogs': 'viewer',
  'JobService/GetLogs': 'viewer',
  'JobService/ExplainScore': 'viewer',
  'JobService/ShipJob': 'operator',
  'JobService/RejectJob': 'operator',
  'JobService/RequeueJob': 'operator',
  'JobService/AddChildren': 'operator',
  'JobService/GetDag': 'viewer',
  'JobService/ListArtifacts': 'viewer',
  'JobService/DownloadArtifact': 'viewer',
  'AdminService/ListFactories': 'viewer',
  'AdminService/GetScalingSignal': 'viewer',
  'AdminService/GetProductSettings': 'viewer',
  'AdminService/SetProductSettings': 'admin',
  'AdminService/DrainFactory': 'operator',
  'AdminService/CreateEnrollmentToken': 'admin',
  'AdminService/RevokeFactory': 'admin',
  'AdminService/RotateFactoryToken': 'admin',
  'AdminService/CreateApiKey': 'admin',
  'AdminService/ListApiKeys': 'admin',
  'AdminService/RevokeApiKey': 'admin',
  'AdminService/ListBudgets': 'viewer',
  'AdminService/GetBudget': 'viewer',
  'AdminService/SetBudget': 'admin',
  'AdminService/PauseBudget': 'operator',
  'AdminService/ResumeBudget': 'operator',
  'AdminService/GetCaller': 'viewer',
  'FactoryService/Connect': 'factory',
  'FactoryService/Enroll': 'enrollment',
  'FactoryService/StartUpload': 'factory',
  'FactoryService/UploadChunks': 'factory',
  'FactoryService/FinishUpload': 'factory',
  'FactoryService/FetchArtifact': 'factory',
  'TrackerService/IngestItem': 'operator',
  'TrackerService/IngestItems': 'operator',
  'LeaseService/Check': 'viewer',
  'LeaseService/ListLeaseKeys': 'viewer',
  'ScheduleService/CreateSchedule': 'operator',
  'ScheduleService/GetSchedule': 'viewer',
  'ScheduleService/ListSchedules': 'viewer',
  'ScheduleService/PauseSchedule': 'operator',
  'ScheduleService/ResumeSchedule': 'operator',
  'ScheduleService/DeleteSchedule': 'operator',
  'ScheduleService/TriggerSchedule': 'operator',
  'WeightsService/EvaluateWeights': 'viewer',
  'WeightsService/RecommendWeights': 'viewer',
  'WeightsService/GetWeightsExperiment': 'viewer',
  'WeightsService/StartWeightsExperiment': 'admin',
  'WeightsService/StopWeightsExperiment': 'admin',
};

const RANK = { viewer: 1, operator: 2, admin: 3 } as const;
const PRINCIPALS = ['no credential', 'malformed header', 'unknown token', 'viewer', 'operator', 'admin', 'factory token', 'enrollment token'] as const;
type PrincipalName = (typeof PRINCIPALS)[number];

function expectedOutcome(needs: Needs, who: PrincipalName): 'allowed' | 'Unauthenticated' | 'PermissionDenied' {
  switch (who) {
    case 'no credential':
    case 'malformed header':
    case 'unknown token':
      return 'Unauthenticated';
    case 'viewer':
    case 'operator':
    case 'admin':
      return needs in RANK && RANK[who] >= RANK[needs as keyof typeof RANK] ? 'allowed' : 'PermissionDenied';
    case 'factory token':
      return needs === 'factory' ? 'allowed' : 'PermissionDenied';
    case 'enrollment token':
      return needs === 'enrollment' ? 'allowed' : 'PermissionDenied';
  }
}

interface Clients {
  jobs: Client<typeof JobService>;
  admin: Client<typeof AdminService>;
  factory: Client<typeof FactoryService>;
  tracker: Client<typeof TrackerService>;
  lease: Client<typeof LeaseService>;
  schedules: Client<typeof ScheduleService>;
  weights: Client<typeof WeightsService>;
}

let server: SecureServer;
let jobId: string;
let factoryToken: string;
let counter = 0;

/** One call per RPC: a request that succeeds (or fails for reasons other than access) when allowed. */
const CALLS: Record<string, (c: Clients) => Promise<unknown>> = {
  'JobService/SubmitJob': (c) => c.jobs.submitJob({ productId: 'matrix', command: ['true'] }),
  'JobService/SubmitJobs': (c) => c.jobs.submitJobs({ jobs: [{ productId: 'matrix', command: ['true'] }] }),
  'JobService/GetJob': (c) => c.jobs.getJob({ jobId }),
  'JobService/ListJobs': (c) => c.jobs.listJobs({ pageSize: 1 }),
  'JobService/CancelJob': (c) => c.jobs.cancelJob({ jobId: 'job_missing' }),
  'JobService/WatchJobs': async (c) => {
    for await (const _ of c.jobs.watchJobs({ jobId })) return; // the history replay proves access
  },
  'JobService/TailLogs': async (c) => {
    for await (const _ of c.jobs.tailLogs({ jobId })) void _;
  },
  'JobService/GetLogs': (c) => c.jobs.getLogs({ jobId }),
  'JobService/ExplainScore': (c) => c.jobs.explainScore({ jobId }),
  'JobService/ShipJob': (c) => c.jobs.shipJob({ jobId: 'job_missing' }),
  'JobService/RejectJob': (c) => c.jobs.rejectJob({ jobId: 'job_missing', reason: 'matrix' }),
  'JobService/RequeueJob': (c) => c.jobs.requeueJob({ jobId: 'job_missing' }),
  'JobService/AddChildren': (c) => c.jobs.addChildren({ parentId: 'job_missing', children: [{ productId: 'matrix', command: ['true'] }] }),
  'JobService/GetDag': (c) => c.jobs.getDag({ jobId }),
  'JobService/ListArtifacts': (c) => c.jobs.listArtifacts({ jobId }),
  'JobService/DownloadArtifact': async (c) => {
    for await (const _ of c.jobs.downloadArtifact({ jobId, name: 'missing.txt' })) void _; // NOT_FOUND once admitted
  },
  'AdminService/ListFactories': (c) => c.admin.listFactories({}),
  'AdminService/GetScalingSignal': (c) => c.admin.getScalingSignal({}),
  'AdminService/GetProductSettings': (c) => c.admin.getProductSettings({ productId: 'matrix' }),
  'AdminService/SetProductSettings': (c) => c.admin.setProductSettings({ productId: 'matrix', shareWeight: 1 }),
  'AdminService/DrainFactory': (c) => c.admin.drainFactory({ factoryId: 'nobody' }),
  'AdminService/CreateEnrollmentToken': (c) => c.admin.createEnrollmentToken({}),
  'AdminService/RevokeFactory': (c) => c.admin.revokeFactory({ factoryId: 'nobody' }),
  'AdminService/RotateFactoryToken': (c) => c.admin.rotateFactoryToken({ factoryId: 'nobody' }),
  'AdminService/CreateApiKey': (c) => c.admin.createApiKey({ name: `matrix-${++counter}`, role: ApiKeyRole.VIEWER }),
  'AdminService/ListApiKeys': (c) => c.admin.listApiKeys({}),
  'AdminService/RevokeApiKey': (c) => c.admin.revokeApiKey({ name: 'nobody' }),
  'AdminService/ListBudgets': (c) => c.admin.listBudgets({}),
  'AdminService/GetBudget': (c) => c.admin.getBudget({ productId: 'matrix' }),
  'AdminService/SetBudget': (c) => c.admin.setBudget({ productId: 'matrix', costLimit: 100 }),
  'AdminService/PauseBudget': (c) => c.admin.pauseBudget({ productId: 'matrix-paused', reason: 'matrix' }),
  'AdminService/ResumeBudget': (c) => c.admin.resumeBudget({ productId: 'matrix' }),
  'AdminService/GetCaller': (c) => c.admin.getCaller({}),
  'LeaseService/Check': (c) => c.lease.check({ token: 'not-a-token' }),
  'LeaseService/ListLeaseKeys': (c) => c.lease.listLeaseKeys({}),
  'FactoryService/Connect': async (c) => {
    const abort = new AbortController();
    async function* requests(): AsyncIterable<ConnectRequest> {
      yield create(ConnectRequestSchema, { kind: { case: 'hello', value: { factoryId: 'matrix-factory', slots: 1 } } });
      await new Promise((resolve) => abort.signal.addEventListener('abort', resolve));
    }
    try {
      for await (const message of c.factory.connect(requests(), { signal: abort.signal })) {
        expect(message.kind.case).toBe('welcome');
        return;
      }
    } finally {
      abort.abort();
    }
  },
  'FactoryService/Enroll': (c) => c.factory.enroll({ factoryId: `matrix-enrolled-${++counter}` }),
  // Admitted, these are refused by the epoch fence or as unknown: the job is not leased to matrix-factory.
  'FactoryService/StartUpload': (c) => c.factory.startUpload({ factoryId: 'matrix-factory', jobId, epoch: 1n, kind: ArtifactKind.ARTIFACT, name: 'a.txt', sizeBytes: 1n, sha256: 'a'.repeat(64) }),
  'FactoryService/UploadChunks': (c) =>
    c.factory.uploadChunks(
      (async function* () {
        yield { uploadId: 'u-missing', offset: 0n, data: new Uint8Array([1]) };
      })(),
    ),
  'FactoryService/FinishUpload': (c) => c.factory.finishUpload({ uploadId: 'u-missing' }),
  'FactoryService/FetchArtifact': async (c) => {
    for await (const _ of c.factory.fetchArtifact({ factoryId: 'matrix-factory', jobId, epoch: 1n, name: 'a.txt' })) void _;
  },
  'TrackerService/IngestItem': (c) => c.tracker.ingestItem({ item: { externalId: 'M-1', productId: 'matrix', commandTemplate: ['true'] }, dryRun: true }),
  'TrackerService/IngestItems': (c) => c.tracker.ingestItems({ items: [{ externalId: 'M-2', productId: 'matrix', commandTemplate: ['true'] }], dryRun: true }),
  'ScheduleService/CreateSchedule': (c) => c.schedules.createSchedule({ template: { productId: 'matrix', command: ['true'] }, cron: '0 3 * * *', paused: true }),
  'ScheduleService/GetSchedule': (c) => c.schedules.getSchedule({ scheduleId: 'sch_missing' }),
  'ScheduleService/ListSchedules': (c) => c.schedules.listSchedules({}),
  'ScheduleService/PauseSchedule': (c) => c.schedules.pauseSchedule({ scheduleId: 'sch_missing' }),
  'ScheduleService/ResumeSchedule': (c) => c.schedules.resumeSchedule({ scheduleId: 'sch_missing' }),
  'ScheduleService/DeleteSchedule': (c) => c.schedules.deleteSchedule({ scheduleId: 'sch_missing' }),
  'ScheduleService/TriggerSchedule': (c) => c.schedules.triggerSchedule({ scheduleId: 'sch_missing' }),
  'WeightsService/EvaluateWeights': (c) => c.weights.evaluateWeights({ productId: 'matrix', weights: { affinity: 1 } }),
  'WeightsService/RecommendWeights': (c) => c.weights.recommendWeights({ productId: 'matrix' }),
  'WeightsService/GetWeightsExperiment': (c) => c.weights.getWeightsExperiment({ productId: 'matrix' }),
  'WeightsService/StartWeightsExperiment': (c) => c.weights.startWeightsExperiment({ productId: 'matrix-weights', weights: { affinity: 2 }, fraction: 0.1 }),
  'WeightsService/StopWeightsExperiment': (c) => c.weights.stopWeightsExperiment({ productId: 'matrix-weights' }),
};

/** The token each principal presents ("raw:" sends the header value as is). */
async function tokenOf(who: PrincipalName): Promise<string | null> {
  switch (who) {
    case 'no credential':
      return null;
    case 'malformed header':
      return 'raw:Basic dXNlcjpwYXNz';
    case 'unknown token':
      return `gfk_${'A'.repeat(43)}`;
    case 'viewer':
    case 'operator':
    case 'admin':
      return server.keys[who];
    case 'factory token':
      return factoryToken;
    case 'enrollment token': // a fresh one each time: Enroll uses it up
      return (await server.security.createEnrollmentToken({ ttlMs: 0, allowedLabels: [], allowedProducts: [], factoryId: '', description: '' }, 'test')).token;
  }
}

beforeAll(async () => {
  server = await startSecureServer({ keyRequestBurst: 10_000, maxStreamsPerFactory: 100 });
  jobId = (await grpcClient(JobService, server, server.keys.operator).submitJob({ productId: 'matrix', command: ['true'] })).job!.id;
  factoryToken = await enrolledFactory(server, 'matrix-factory');
});
afterAll(() => server.stop());

describe('the access table', () => {
  it('has exactly one rule for every RPC of every service, and it is the expected one', () => {
    const rpcs = [JobService, AdminService, FactoryService, TrackerService, LeaseService, ScheduleService, WeightsService].flatMap((s) => s.methods.map((m) => `${s.name}/${m.name}`));
    expect(rpcs.sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(Object.keys(ACCESS).sort()).toEqual(rpcs.map((r) => `gigafactory.fleet.v1.${r}`).sort());
    for (const rpc of rpcs) {
      const rule = ACCESS[`gigafactory.fleet.v1.${rpc}`]!;
      expect(rule.t === 'role' ? rule.role : rule.t, rpc).toBe(EXPECTED[rpc]);
    }
  });
});

const LISTENERS = [
  { name: 'native gRPC', make: grpcClient },
  { name: 'Connect gateway', make: gatewayClient },
] as const;

describe.each(LISTENERS)('$name', ({ name, make }) => {
  it.each(Object.keys(EXPECTED))('%s: every principal gets exactly its access', async (rpc) => {
    if (name === 'Connect gateway' && rpc === 'FactoryService/Connect') return; // see the next test
    const results: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const who of PRINCIPALS) {
      const token = await tokenOf(who);
      const clients: Clients = {
        jobs: make(JobService, server, token),
        admin: make(AdminService, server, token),
        factory: make(FactoryService, server, token),
        tracker: make(TrackerService, server, token),
        lease: make(LeaseService, server, token),
        schedules: make(ScheduleService, server, token),
        weights: make(WeightsService, server, token),
      };
      const got = await outcome(() => CALLS[rpc]!(clients));
      results[who] = got === 'Unauthenticated' || got === 'PermissionDenied' ? got : 'allowed';
      expected[who] = expectedOutcome(EXPECTED[rpc]!, who);
      if (results[who] === 'allowed') expect(got, `${rpc} as ${who}`).not.toMatch(/^error|Internal|Unknown/);
    }
    expect(results).toEqual(expected);
  });
});

describe('FactoryService.Connect on the HTTP/1.1 gateway', () => {
  it('is not served at all (bidi streaming needs HTTP/2): 505 before any handler, whatever the credential', async () => {
    for (const who of PRINCIPALS) {
      const token = await tokenOf(who);
      const res = await fetch(`${server.httpUrl}/gigafactory.fleet.v1.FactoryService/Connect`, {
        method: 'POST',
        headers: { 'content-type': 'application/connect+json', ...(token ? { authorization: token.startsWith('raw:') ? token.slice(4) : `Bearer ${token}` } : {}) },
        body: new Uint8Array([0, 0, 0, 0, 2, 123, 125]),
      });
      expect(res.status, who).toBe(505);
    }
  });
});

describe('GetCaller', () => {
  it("names the calling key and its role, and the role each RPC needs, as the access table says", async () => {
    for (const [role, wire] of [['viewer', ApiKeyRole.VIEWER], ['operator', ApiKeyRole.OPERATOR], ['admin', ApiKeyRole.ADMIN]] as const) {
      const caller = await gatewayClient(AdminService, server, server.keys[role]).getCaller({});
      expect(caller).toMatchObject({ name: role, role: wire, development: false });
    }
    const { requiredRoles } = await grpcClient(AdminService, server, server.keys.viewer).getCaller({});
    const RANK_TO_WIRE = { viewer: ApiKeyRole.VIEWER, operator: ApiKeyRole.OPERATOR, admin: ApiKeyRole.ADMIN } as const;
    const keyRpcs = Object.entries(EXPECTED).filter((e): e is [string, keyof typeof RANK] => e[1] in RANK);
    expect(requiredRoles).toEqual(Object.fromEntries(keyRpcs.map(([rpc, needs]) => [rpc, RANK_TO_WIRE[needs]])));
    expect(requiredRoles['JobService/ShipJob']).toBe(ApiKeyRole.OPERATOR);
    expect(requiredRoles['FactoryService/Connect']).toBeUndefined();
  });

  it('refuses a factory token and a call without a credential, saying why', async () => {
    await expect(grpcClient(AdminService, server, factoryToken).getCaller({})).rejects.toMatchObject({
      code: Code.PermissionDenied,
      rawMessage: expect.stringMatching(/AdminService\/GetCaller needs an API key with role viewer or above; a factory token \("matrix-factory"\) may not call it/),
    });
    await expect(gatewayClient(AdminService, server, null).getCaller({})).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it('in development mode without a credential, reports the caller as an admin in development', async () => {
    const dev = await startTestServer();
    try {
      const caller = await gatewayClient(AdminService, dev, null).getCaller({});
      expect(caller).toMatchObject({ name: 'api', role: ApiKeyRole.ADMIN, development: true });
    } finally {
      await dev.stop();
    }
  });
});

describe('refusals', () => {
  it('say why: the missing credential, the role needed, the token kind', async () => {
    const anonymous = await outcome(() => grpcClient(JobService, server, null).submitJob({ productId: 'p', command: ['true'] }));
    expect(anonymous).toBe('Unauthenticated');
    await expect(grpcClient(JobService, server, null).getJob({ jobId })).rejects.toThrow(/needs a credential: send "authorization: Bearer <token>"/);
    await expect(grpcClient(JobService, server, server.keys.viewer).submitJob({ productId: 'p', command: ['true'] })).rejects.toThrow(
      /API key "viewer" has role viewer; JobService\/SubmitJob needs operator or above/,
    );
    await expect(grpcClient(JobService, server, factoryToken).getJob({ jobId })).rejects.toThrow(/factory token \("matrix-factory"\) may not call it/);
    await expect(grpcClient(JobService, server, 'raw:Basic abc').getJob({ jobId })).rejects.toThrow(/must be "Bearer <token>"/);
    await expect(grpcClient(JobService, server, 'hunter2').getJob({ jobId })).rejects.toThrow(/not a gigafactory credential/);
  });

  it('records the key name as the actor of the job events it causes', async () => {
    const jobs = grpcClient(JobService, server, server.keys.operator);
    const { job } = await jobs.submitJob({ productId: 'audit', command: ['true'] });
    await jobs.cancelJob({ jobId: job!.id, reason: 'audit' });
    const actors: string[] = [];
    for await (const res of grpcClient(JobService, server, server.keys.viewer).watchJobs({ jobId: job!.id })) {
      actors.push(res.event!.actor);
      if (res.event!.kind === 'cancelled') break;
    }
    expect(actors).toEqual(['operator', 'operator']);
  });

  it('a revoked key is refused at once', async () => {
    const admin = grpcClient(AdminService, server, server.keys.admin);
    const { key } = await admin.createApiKey({ name: 'short-lived', role: ApiKeyRole.VIEWER });
    expect(await outcome(() => grpcClient(JobService, server, key).listJobs({}))).toBe('ok');
    await admin.revokeApiKey({ name: 'short-lived' });
    await expect(grpcClient(JobService, server, key).listJobs({})).rejects.toMatchObject({ code: Code.Unauthenticated, rawMessage: expect.stringMatching(/API key "short-lived" was revoked/) });
    const listed = await admin.listApiKeys({});
    expect(listed.apiKeys.find((k) => k.name === 'short-lived')?.revokeTime).toBeDefined();
    expect(toJsonString(ListApiKeysResponseSchema, listed)).not.toContain(key.slice(4)); // secrets are never listed
    await expect(admin.createApiKey({ name: 'short-lived', role: ApiKeyRole.VIEWER })).rejects.toMatchObject({ code: Code.AlreadyExists });
  });
});

/**
 * Streams per API key: a key holds at most maxStreamsPerKey followers (WatchJobs, TailLogs), and
 * revoking it ends the ones it has open, at once, with the reason.
 */
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { gatewayClient, grpcClient, startSecureServer, type SecureServer } from './helpers.js';

let server: SecureServer;
beforeAll(async () => {
  server = await startSecureServer({ maxStreamsPerKey: 2 });
});
afterAll(() => server.stop());

/** Follows every job change until the stream ends; resolves with how it ended. */
async function follow(jobs: Client<typeof JobService>, signal?: AbortSignal): Promise<ConnectError | null> {
  try {
    for await (const _ of jobs.watchJobs({}, signal ? { signal } : {})) void _;
    return null;
  } catch (err) {
    return ConnectError.from(err);
  }
}

/** Resolves once the coordinator has this many followers open. */
const open = (n: number) => expect.poll(() => server.coordinator.streams.size).toBe(n);

it('a key holds at most maxStreamsPerKey followers; another key has its own', async () => {
  const abort = new AbortController();
  const jobs = grpcClient(JobService, server, server.keys.viewer);
  const first = follow(jobs, abort.signal);
  const second = follow(gatewayClient(JobService, server, server.keys.viewer), abort.signal);
  await open(2);
  const third = await follow(jobs);
  expect(third).toMatchObject({ code: Code.ResourceExhausted, rawMessage: 'API key "viewer" has 2 streams open, the most one key may; end one first' });
  const other = follow(grpcClient(JobService, server, server.keys.operator), abort.signal);
  await open(3);
  abort.abort();
  await Promise.all([first, second, other]);
  await open(0);
  // Ended streams count no more.
  const again = new AbortController();
  const fourth = follow(jobs, again.signal);
  await open(1);
  again.abort();
  expect(await fourth).toMatchObject({ code: Code.Canceled });
  await open(0);
});

it('revoking a key ends its open streams with UNAUTHENTICATED at once; other keys stream on', async () => {
  const admin = grpcClient(AdminService, server, server.keys.admin);
  const { key } = await admin.createApiKey({ name: 'short-lived', role: ApiKeyRole.VIEWER });
  const native = follow(grpcClient(JobService, server, key));
  const gateway = follow(gatewayClient(JobService, server, key));
  const abort = new AbortController();
  const bystander = follow(grpcClient(JobService, server, server.keys.viewer), abort.signal);
  await open(3);

  const revokedAt = Date.now();
  await admin.revokeApiKey({ name: 'short-lived' });
  for (const ended of [await native, await gateway]) {
    expect(ended).toMatchObject({ code: Code.Unauthenticated, rawMessage: expect.stringMatching(/^API key "short-lived" was revoked at /) });
  }
  expect(Date.now() - revokedAt).toBeLessThan(1_000);
  expect(server.coordinator.streams.size).toBe(1);
  abort.abort();
  expect(await bystander).toMatchObject({ code: Code.Canceled });
});

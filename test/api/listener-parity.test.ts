/**
 * The two listeners are one API: the same good and bad calls get the same answer (status code and
 * message, request id) from the native gRPC listener (grpc-js) and from the Connect gateway
 * (connect-node), with security on. And on the native listener a credential is checked from the
 * headers before a byte of the body is needed.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { request as httpRequest } from 'node:http';
import * as http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { JobService, SubmitJobRequestSchema } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { enrolledFactory, gatewayClient, grpcClient, startSecureServer, type SecureServer } from '../security/helpers.js';

let server: SecureServer;
let factoryToken: string;

beforeAll(async () => {
  server = await startSecureServer({ maxMessageBytes: 16 * 1024 });
  factoryToken = await enrolledFactory(server, 'parity-factory');
});
afterAll(() => server.stop());

type Answer = { code: string; message: string } | { ok: unknown };

/** The call on both listeners; what each answered, errors as code and message. */
async function onBoth<T>(token: string | null, call: (jobs: Client<typeof JobService>, admin: Client<typeof AdminService>) => Promise<T>, pick: (res: T) => unknown = () => 'ok'): Promise<{ native: Answer; gateway: Answer }> {
  const answer = async (client: typeof grpcClient): Promise<Answer> => {
    try {
      return { ok: pick(await call(client(JobService, server, token), client(AdminService, server, token))) };
    } catch (err) {
      const e = ConnectError.from(err);
      return { code: Code[e.code], message: e.rawMessage };
    }
  };
  return { native: await answer(grpcClient), gateway: await answer(gatewayClient) };
}

describe('the same call gets the same answer on both listeners', () => {
  const cases: [string, () => string | null, (jobs: Client<typeof JobService>, admin: Client<typeof AdminService>) => Promise<unknown>, string][] = [
    ['no credential', () => null, (jobs) => jobs.getJob({ jobId: 'job_x' }), 'Unauthenticated'],
    ['a malformed authorization header', () => 'raw:Token abc', (jobs) => jobs.getJob({ jobId: 'job_x' }), 'Unauthenticated'],
    ['an unknown key', () => 'gfk_unknown', (jobs) => jobs.getJob({ jobId: 'job_x' }), 'Unauthenticated'],
    ['a viewer submitting', () => server.keys.viewer, (jobs) => jobs.submitJob({ productId: 'p', command: ['true'] }), 'PermissionDenied'],
    ['an operator minting keys', () => server.keys.operator, (_, admin) => admin.createApiKey({ name: 'x', role: 1 }), 'PermissionDenied'],
    ['a factory token on the job service', () => factoryToken, (jobs) => jobs.listJobs({}), 'PermissionDenied'],
    ['a missing job', () => server.keys.viewer, (jobs) => jobs.getJob({ jobId: 'job_missing' }), 'NotFound'],
    ['a submit without a product', () => server.keys.operator, (jobs) => jobs.submitJob({ productId: '', command: ['true'] }), 'InvalidArgument'],
    ['a submit without a command', () => server.keys.operator, (jobs) => jobs.submitJob({ productId: 'p', command: [] }), 'InvalidArgument'],
    ['a bad page token', () => server.keys.viewer, (jobs) => jobs.listJobs({ pageToken: 'not-a-token' }), 'InvalidArgument'],
    ['a page size out of range', () => server.keys.viewer, (jobs) => jobs.listJobs({ pageSize: -1 }), 'InvalidArgument'],
    ['cancelling a missing job', () => server.keys.operator, (jobs) => jobs.cancelJob({ jobId: 'job_missing' }), 'NotFound'],
  ];
  it.each(cases)('%s', async (_name, token, call, code) => {
    const { native, gateway } = await onBoth(token(), call);
    expect(native).toEqual(gateway);
    expect(native).toMatchObject({ code });
    expect((native as { message: string }).message.length).toBeGreaterThan(10);
  });

  it('a good submit and read: the same job, seen the same way', async () => {
    const native = await grpcClient(JobService, server, server.keys.operator).submitJob({ productId: 'parity', command: ['echo', 'native'], idempotencyKey: 'parity-1' });
    const gateway = await gatewayClient(JobService, server, server.keys.operator).submitJob({ productId: 'parity', command: ['echo', 'native'], idempotencyKey: 'parity-1' });
    expect(native.created).toBe(true);
    expect(gateway.created).toBe(false);
    expect(gateway.job).toEqual(native.job);
    const read = await onBoth(server.keys.viewer, (jobs) => jobs.getJob({ jobId: native.job!.id }), (res) => res.job);
    expect(read.native).toEqual(read.gateway);
    expect(read.native).toEqual({ ok: native.job });
  });

  it('who is calling: the same principal on both', async () => {
    const { native, gateway } = await onBoth(server.keys.admin, (_, admin) => admin.getCaller({}), (res) => res);
    expect(native).toEqual(gateway);
    expect(native).toMatchObject({ ok: { name: 'admin' } });
  });

  it('a message over the size limit is RESOURCE_EXHAUSTED on both', async () => {
    const huge = { productId: 'parity', command: ['echo', 'x'.repeat(20_000)] };
    const { native, gateway } = await onBoth(server.keys.operator, (jobs) => jobs.submitJob(huge));
    // Each transport words its own size check (grpc-js refuses the frame before buffering it).
    expect(native).toMatchObject({ code: 'ResourceExhausted', message: expect.stringMatching(/larger than/) });
    expect(gateway).toMatchObject({ code: 'ResourceExhausted', message: expect.stringMatching(/larger than/) });
  });

  it('a deadline ends a follower with DEADLINE_EXCEEDED on both', async () => {
    const follow = (client: typeof grpcClient) => async () => {
      for await (const _ of client(JobService, server, server.keys.viewer).watchJobs({}, { timeoutMs: 300 })) void _;
    };
    for (const client of [grpcClient, gatewayClient]) {
      await expect(follow(client)()).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    }
  });

  it('echoes the caller’s request id on answers and refusals, on both', async () => {
    for (const client of [grpcClient, gatewayClient]) {
      const seen: (string | null)[] = [];
      const jobs = client(JobService, server, null);
      await jobs.getJob({ jobId: 'job_x' }, { headers: { 'x-request-id': 'parity-req-1' }, onTrailer: (t) => seen.push(t.get('x-request-id')), onHeader: (h) => seen.push(h.get('x-request-id')) }).catch((err: unknown) => {
        seen.push(ConnectError.from(err).metadata.get('x-request-id'));
      });
      expect(seen).toContain('parity-req-1');
    }
  });
});

describe('the gateway refuses in each protocol as connect-node would', () => {
  it.each(['Connect', 'gRPC-Web'] as const)('%s: a unary call and a server stream without a credential', async (protocol) => {
    const transport =
      protocol === 'Connect' ? createConnectTransport({ baseUrl: server.httpUrl, httpVersion: '1.1' }) : createGrpcWebTransport({ baseUrl: server.httpUrl, httpVersion: '1.1' });
    const jobs = createClient(JobService, transport);
    const native = grpcClient(JobService, server, null);
    const unary = await Promise.all([jobs.getJob({ jobId: 'job_x' }), native.getJob({ jobId: 'job_x' })].map((p) => p.catch((err: unknown) => ConnectError.from(err))));
    const follow = async (client: Client<typeof JobService>) => {
      for await (const _ of client.watchJobs({})) void _;
    };
    const streams = await Promise.all([follow(jobs), follow(native)].map((p) => p.catch((err: unknown) => ConnectError.from(err))));
    for (const [gateway, nativeAnswer] of [unary, streams]) {
      expect(gateway).toBeInstanceOf(ConnectError);
      expect((gateway as ConnectError).code).toBe(Code.Unauthenticated);
      expect((gateway as ConnectError).rawMessage).toBe((nativeAnswer as ConnectError).rawMessage);
      expect((gateway as ConnectError).metadata.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('credentials before bytes', () => {
  it('gateway: refuses a call without a credential from its headers, though its body never arrives', async () => {
    const url = new URL(`${server.httpUrl}/gigafactory.fleet.v1.JobService/SubmitJob`);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(1024 * 1024) } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('{"productId": "'); // and never the rest
    });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'unauthenticated', message: expect.stringContaining('needs a credential') });
  });


  it('native: refuses a call without a credential from its headers, though its body never arrives', async () => {
    const session = http2.connect(server.grpcUrl);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/gigafactory.fleet.v1.JobService/SubmitJob', 'content-type': 'application/grpc', te: 'trailers' });
      // A gRPC frame header promising 1 MiB, then nothing: a server that read the body first would wait forever.
      const frame = Buffer.alloc(5);
      frame.writeUInt32BE(1024 * 1024, 1);
      stream.write(frame);
      const status = await new Promise<string>((resolve, reject) => {
        stream.on('response', (headers) => headers['grpc-status'] !== undefined && resolve(String(headers['grpc-status'])));
        stream.on('trailers', (trailers) => resolve(String(trailers['grpc-status'])));
        stream.on('error', reject);
      });
      expect(status).toBe(String(Code.Unauthenticated));
      stream.close();
    } finally {
      session.close();
    }
  });

  it('native: reads the body once the credential is good', async () => {
    const body = toBinary(SubmitJobRequestSchema, create(SubmitJobRequestSchema, { productId: 'parity-raw', command: ['true'] }));
    const session = http2.connect(server.grpcUrl);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/gigafactory.fleet.v1.JobService/SubmitJob', 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${server.keys.operator}` });
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      stream.end(frame);
      stream.resume();
      const status = await new Promise<string>((resolve, reject) => {
        stream.on('trailers', (trailers) => resolve(String(trailers['grpc-status'])));
        stream.on('error', reject);
      });
      expect(status).toBe('0');
    } finally {
      session.close();
    }
  });
});

/**
 * The job service end to end over both listeners: Connect JSON with plain fetch (what `curl` does),
 * gRPC-Web and native gRPC, against a real server and a real SQLite file. Bad input gets the right
 * status and a message naming the field, and leaves nothing behind.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStage, LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobOrder, JobService, SubmitJobRequestSchema } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let grpc: Client<typeof JobService>;

beforeAll(async () => {
  server = await startTestServer({ maxMessageBytes: 64 * 1024, corsOrigins: ['http://app.example'] });
  grpc = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
});
afterAll(() => server.stop());

/** A Connect unary call with JSON, exactly as the README's curl makes it. */
async function connectJson(method: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.httpUrl}/gigafactory.fleet.v1.JobService/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

async function totalJobs(): Promise<number> {
  let count = 0;
  let pageToken = '';
  do {
    const page = await grpc.listJobs({ pageSize: 500, pageToken });
    count += page.jobs.length;
    pageToken = page.nextPageToken;
  } while (pageToken);
  return count;
}

describe('Connect JSON gateway', () => {
  it('submits a job and reads it back', async () => {
    const submitted = await connectJson('SubmitJob', { productId: 'demo', command: ['echo', 'hello'], priority: 5 });
    expect(submitted.status).toBe(200);
    expect(submitted.json.created).toBe(true);
    const job = submitted.json.job;
    expect(job.id).toMatch(/^job_[0-9A-Z]{26}$/);
    expect(job.stage).toBe('JOB_STAGE_QUEUED');
    expect(job.command).toEqual(['echo', 'hello']);
    expect(job.maxAttempts).toBe(3);

    const got = await connectJson('GetJob', { jobId: job.id });
    expect(got.status).toBe(200);
    expect(got.json.job).toEqual(job);
  });

  it('returns the first job for a repeated idempotency key', async () => {
    const body = { productId: 'idem', command: ['true'], idempotencyKey: 'build-42' };
    const first = await connectJson('SubmitJob', body);
    const second = await connectJson('SubmitJob', { ...body, command: ['false'] });
    expect(second.json.created).toBe(false);
    expect(second.json.job.id).toBe(first.json.job.id);
    expect(second.json.job.command).toEqual(['true']);
  });

  it('answers CORS preflight for a configured origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.httpUrl}/gigafactory.fleet.v1.JobService/GetJob`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
      });
    const ok = await preflight('http://app.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://app.example');
    const other = await preflight('http://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('gRPC-Web and native gRPC', () => {
  it('serve the same jobs', async () => {
    const web = createClient(JobService, createGrpcWebTransport({ baseUrl: server.httpUrl, httpVersion: '1.1' }));
    const { job } = await web.submitJob({ productId: 'web', command: ['ls', '-l'], requiredLabels: [{ key: 'os', operator: LabelOperator.EQUALS, values: ['linux'] }] });
    const viaGrpc = await grpc.getJob({ jobId: job!.id });
    expect(viaGrpc.job!.requiredLabels[0]!.values).toEqual(['linux']);
    expect(viaGrpc.job!.stage).toBe(JobStage.QUEUED);
  });

  it('pages through ListJobs with filters and no duplicates', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) {
      const { job } = await grpc.submitJob({ productId: 'paging', command: ['true'], requiredLabels: [{ key: 'gpu', operator: LabelOperator.EXISTS }] });
      ids.add(job!.id);
    }
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await grpc.listJobs({ productId: 'paging', label: 'gpu', pageSize: 3, pageToken });
      seen.push(...page.jobs.map((j) => j.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(ids);
    expect([...seen]).toEqual([...seen].sort().reverse()); // newest first
  });

  it('cancels a queued job, and refuses to cancel it again', async () => {
    const { job } = await grpc.submitJob({ productId: 'cancel', command: ['sleep', '1'] });
    const cancelled = await grpc.cancelJob({ jobId: job!.id, reason: 'not needed' });
    expect(cancelled.job!.stage).toBe(JobStage.CANCELLED);
    await expect(grpc.cancelJob({ jobId: job!.id })).rejects.toMatchObject({ code: Code.FailedPrecondition });
  });

  it('streams job events with WatchJobs, history first', async () => {
    const { job } = await grpc.submitJob({ productId: 'watch', command: ['true'] });
    const abort = new AbortController();
    const kinds: string[] = [];
    const watching = (async () => {
      for await (const res of grpc.watchJobs({ jobId: job!.id }, { signal: abort.signal })) {
        kinds.push(res.event!.kind);
        if (res.event!.kind === 'cancelled') abort.abort();
      }
    })().catch((err: unknown) => {
      if (!(err instanceof ConnectError && err.code === Code.Canceled)) throw err;
    });
    // The history replay proves the subscription is live before we cancel.
    await expect.poll(() => kinds.length).toBeGreaterThan(0);
    await grpc.cancelJob({ jobId: job!.id });
    await watching;
    // A "waiting" note (no factory connected) may come between, depending on how long the cancel took.
    expect(kinds.filter((kind) => kind !== 'waiting')).toEqual(['submitted', 'cancelled']);
  });

  it('TailLogs of a job without output ends at once when not following', async () => {
    const { job } = await grpc.submitJob({ productId: 'logs', command: ['true'] });
    const chunks = [];
    for await (const res of grpc.tailLogs({ jobId: job!.id, follow: false })) chunks.push(res);
    expect(chunks).toEqual([]);
  });
});

describe('bad input', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['missing product', { command: ['x'] }, 'product_id is required'],
    ['bad product', { productId: 'Bad Product', command: ['x'] }, 'product_id "Bad Product"'],
    ['empty command', { productId: 'p', command: [] }, 'command must have at least one element'],
    ['empty program', { productId: 'p', command: [''] }, 'command[0]'],
    ['unspecified operator', { productId: 'p', command: ['x'], requiredLabels: [{ key: 'os', values: ['linux'] }] }, 'required_labels[0].operator'],
    ['equals without value', { productId: 'p', command: ['x'], requiredLabels: [{ key: 'os', operator: 'LABEL_OPERATOR_EQUALS' }] }, 'required_labels[0]: operator equals'],
    ['non-numeric gte', { productId: 'p', command: ['x'], requiredLabels: [{ key: 'mem', operator: 'LABEL_OPERATOR_GREATER_OR_EQUAL', values: ['lots'] }] }, 'numeric'],
    ['reserved env', { productId: 'p', command: ['x'], env: { GIGAFACTORY_EPOCH: '1' } }, 'reserved'],
    ['attempts out of range', { productId: 'p', command: ['x'], maxAttempts: 1000 }, 'max_attempts 1000'],
    ['timeout too short', { productId: 'p', command: ['x'], timeout: '0.5s' }, 'timeout must be'],
  ];
  it.each(cases)('SubmitJob with %s is INVALID_ARGUMENT naming the field, and stores nothing', async (_name, body, message) => {
    const before = await totalJobs();
    const res = await connectJson('SubmitJob', body);
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('invalid_argument');
    expect(res.json.message).toContain(message);
    expect(await totalJobs()).toBe(before);
  });

  it('unknown job id is NOT_FOUND', async () => {
    const res = await connectJson('GetJob', { jobId: 'job_nope' });
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: 'not_found', message: 'job job_nope not found' });
    await expect(grpc.tailLogs({ jobId: 'job_nope' })[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Code.NotFound });
  });

  it('empty job id is INVALID_ARGUMENT', async () => {
    const res = await connectJson('GetJob', {});
    expect(res.json).toMatchObject({ code: 'invalid_argument', message: 'job_id is required' });
  });

  it('UNSPECIFIED stage filter is INVALID_ARGUMENT', async () => {
    const res = await connectJson('ListJobs', { stages: ['JOB_STAGE_UNSPECIFIED'] });
    expect(res.json).toMatchObject({ code: 'invalid_argument' });
    expect(res.json.message).toContain('stages[0]');
  });

  it('a tampered page token is INVALID_ARGUMENT, and so is one reused with another filter', async () => {
    for (let i = 0; i < 3; i++) await grpc.submitJob({ productId: 'tamper', command: ['true'] });
    const page = await grpc.listJobs({ productId: 'tamper', pageSize: 1 });
    const token = page.nextPageToken;
    expect(token).not.toBe('');
    const flipped = token.slice(0, 5) + (token[5] === 'A' ? 'B' : 'A') + token.slice(6);
    await expect(grpc.listJobs({ productId: 'tamper', pageSize: 1, pageToken: flipped })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(grpc.listJobs({ productId: 'tamper', pageSize: 1, pageToken: 'garbage' })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(grpc.listJobs({ productId: 'other', pageSize: 1, pageToken: token })).rejects.toThrow(/different filter/);
  });

  it('searches every job (not one page), sorts on the server and pages in that order', async () => {
    for (const [i, title] of ['Deploy canary', 'Rebuild search index', 'deploy production', 'Rotate keys'].entries()) {
      await grpc.submitJob({ productId: 'searching', title, command: ['make', `step-${i}`], priority: i });
    }
    const found = await connectJson('ListJobs', { query: 'DEPLOY', productId: 'searching', orderBy: 'JOB_ORDER_PRIORITY', ascending: true });
    expect(found.json.jobs.map((j: { title: string }) => j.title)).toEqual(['Deploy canary', 'deploy production']);
    const first = await grpc.listJobs({ productId: 'searching', query: 'step-', orderBy: JobOrder.PRIORITY, pageSize: 3 });
    expect(first.jobs.map((j) => j.priority)).toEqual([3, 2, 1]);
    const rest = await grpc.listJobs({ productId: 'searching', query: 'step-', orderBy: JobOrder.PRIORITY, pageSize: 3, pageToken: first.nextPageToken });
    expect(rest.jobs.map((j) => j.priority)).toEqual([0]);
    // A token belongs to its search and order too.
    await expect(grpc.listJobs({ productId: 'searching', query: 'step-', pageSize: 3, pageToken: first.nextPageToken })).rejects.toThrow(/different filter/);
    await expect(grpc.listJobs({ productId: 'searching', query: 'step-1', orderBy: JobOrder.PRIORITY, pageSize: 3, pageToken: first.nextPageToken })).rejects.toThrow(/different filter/);
  });

  it('a search that is too long or holds control characters, or an unknown order, is INVALID_ARGUMENT naming the field', async () => {
    const long = await connectJson('ListJobs', { query: 'x'.repeat(201) });
    expect(long.json).toMatchObject({ code: 'invalid_argument', message: 'query is 201 characters long; at most 200 are allowed' });
    const control = await connectJson('ListJobs', { query: 'a\nb' });
    expect(control.json).toMatchObject({ code: 'invalid_argument', message: 'query must not contain control characters (line breaks, tabs)' });
    await expect(grpc.listJobs({ orderBy: 99 as JobOrder })).rejects.toThrow(/order_by 99 is not a known JOB_ORDER_\* value/);
  });

  it('malformed JSON is INVALID_ARGUMENT', async () => {
    const res = await connectJson('SubmitJob', '{"productId": ');
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('invalid_argument');
  });

  it('a wrong content type is refused with 415', async () => {
    const res = await fetch(`${server.httpUrl}/gigafactory.fleet.v1.JobService/GetJob`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: '{}',
    });
    expect(res.status).toBe(415);
  });

  it('an oversized message is RESOURCE_EXHAUSTED on both listeners and the server stays up', async () => {
    const huge = 'x'.repeat(100 * 1024);
    const res = await connectJson('SubmitJob', { productId: 'p', command: ['echo', huge] });
    expect(res.json.code).toBe('resource_exhausted');
    await expect(grpc.submitJob(create(SubmitJobRequestSchema, { productId: 'p', command: ['echo', huge] }))).rejects.toMatchObject({
      code: Code.ResourceExhausted,
    });
    expect((await connectJson('GetJob', { jobId: 'job_still_up' })).status).toBe(404);
  });
});

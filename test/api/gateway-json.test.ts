/**
 * The Connect gateway's JSON as curl sends it: a field the request message does not have is refused
 * with invalid_argument naming it (a typo like "cmd" must not read as "command is empty"), and
 * nothing is stored; the same request spelled right is accepted. GetLogs pages a job's output in
 * one plain request each, its text readable without decoding base64.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptOutcome, JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { LogStream } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { jobClient } from '../../src/cli/client.js';
import { waitForStage } from '../support/jobs.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const post = (method: string, body: unknown) =>
  fetch(`${server.httpUrl}/gigafactory.fleet.v1.JobService/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

it('refuses an unknown field with invalid_argument naming it, and stores nothing', async () => {
  const res = await post('SubmitJob', { productId: 'typo', cmd: ['true'] });
  expect(res.status).toBe(400);
  const error = (await res.json()) as { code: string; message: string };
  expect(error.code).toBe('invalid_argument');
  expect(error.message).toMatch(/"cmd"/);
  expect(error.message).not.toMatch(/command/);
  const { jobs } = await jobClient(server.grpc.address).listJobs({ productId: 'typo' });
  expect(jobs).toEqual([]);

  const nested = await post('SubmitJob', { productId: 'typo', command: ['true'], requiredLabels: [{ key: 'os', operator: 'LABEL_OPERATOR_EQUALS', value: ['linux'] }] });
  expect(nested.status).toBe(400);
  expect(((await nested.json()) as { message: string }).message).toMatch(/"value"/);
});

it('accepts the same request spelled right', async () => {
  const res = await post('SubmitJob', { productId: 'typo', command: ['true'] });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { job: { productId: string } }).job.productId).toBe('typo');
});

describe('GetLogs over plain JSON', () => {
  it('pages a job’s output in order, with the text readable as it is, and refuses bad input naming it', async () => {
    const client = jobClient(server.grpc.address);
    const { job } = await client.submitJob({ productId: 'logs', command: ['true'] });
    const factory = new RawFactory(server.grpcUrl);
    factory.hello('curl-logs', { slots: 4 });
    await factory.next('welcome');
    const offer = await factory.next('leaseOffer', (o) => o.jobId === job!.id);
    const jobId = job!.id;
    factory.send({ case: 'leaseAccept', value: { jobId, epoch: offer.epoch } });
    for (let sequence = 0; sequence < 3; sequence++) {
      factory.send({ case: 'logChunk', value: { jobId, epoch: offer.epoch, sequence: BigInt(sequence), stream: LogStream.STDOUT, data: new TextEncoder().encode(`line ${sequence} ✓\n`) } });
    }
    factory.send({ case: 'jobResult', value: { jobId, epoch: offer.epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0, logChunkCount: 3n } });
    await waitForStage(client, job!.id, JobStage.SUCCEEDED);

    const first = await post('GetLogs', { jobId: job!.id, pageSize: 2 });
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { chunks: { epoch: string; sequence: string }[]; more: boolean; text: string };
    expect(page1).toMatchObject({ more: true, text: 'line 0 ✓\nline 1 ✓\n' });
    const last = page1.chunks.at(-1)!;
    const page2 = (await (await post('GetLogs', { jobId: job!.id, afterEpoch: last.epoch, afterSequence: last.sequence })).json()) as { more: boolean; text: string };
    expect(page2).toMatchObject({ more: false, text: 'line 2 ✓\n' });
    factory.breakStream();

    const missing = await post('GetLogs', { jobId: 'job_missing' });
    expect({ status: missing.status, code: ((await missing.json()) as { code: string }).code }).toEqual({ status: 404, code: 'not_found' });
    const tooBig = await post('GetLogs', { jobId: job!.id, pageSize: 5000 });
    expect(((await tooBig.json()) as { message: string }).message).toBe('page_size 5000 is above the maximum of 1000');
  });
});

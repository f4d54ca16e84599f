/**
 * The Connect gateway's JSON as curl sends it: a field the request message does not have is refused
 * with invalid_argument naming it (a typo like "cmd" must not read as "command is empty"), and
 * nothing is stored; the same request spelled right is accepted.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { jobClient } from '../../src/cli/client.js';
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

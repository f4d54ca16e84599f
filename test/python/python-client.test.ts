/** A client in another language: Python generated from the same protos, over native gRPC. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

const run = promisify(execFile);
// Debian's interpreter: python3-grpcio and python3-protobuf are installed for it by .ci/run.
const PYTHON = '/usr/bin/python3';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

it('submits a job and reads it back from Python over native gRPC', async () => {
  expect(existsSync(PYTHON), `${PYTHON} is missing: .ci/run installs python3-grpcio`).toBe(true);
  const { stdout } = await run(PYTHON, [join(import.meta.dirname, 'submit_and_get.py'), server.grpc.address]);
  const result = JSON.parse(stdout);
  expect(result).toMatchObject({
    created: true,
    same: true,
    stage: 'JOB_STAGE_QUEUED',
    priority: 7,
    command: ['python3', '-c', "print('hi')"],
    missing: 'NOT_FOUND',
  });
  const viaTs = await server.coordinator.jobs.get(result.id);
  expect(viaTs.productId).toBe('polyglot');
});

/**
 * Every peer a budget: an admitted caller cannot hold a call open by never finishing its request
 * (on either listener), and a native connection may have only so many calls open at once.
 */
import { Code } from '@connectrpc/connect';
import * as http2 from 'node:http2';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { grpcClient, startSecureServer, type SecureServer } from './helpers.js';

let server: SecureServer;

beforeAll(async () => {
  server = await startSecureServer({ requestReadTimeoutMs: 400, maxStreamsPerConnection: 7 });
});
afterAll(() => server.stop());

describe('request read deadline', () => {
  it('native: an admitted call whose body never finishes ends DEADLINE_EXCEEDED at the deadline', async () => {
    const session = http2.connect(server.grpcUrl);
    session.on('error', () => {}); // the server may end the connection with the test
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/gigafactory.fleet.v1.JobService/SubmitJob', 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${server.keys.operator}` });
      const frame = Buffer.alloc(5);
      frame.writeUInt32BE(1000, 1); // promises 1,000 bytes, sends none
      stream.write(frame);
      stream.resume();
      const started = Date.now();
      const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        stream.on('trailers', resolve);
        stream.on('response', (headers) => headers['grpc-status'] !== undefined && resolve(headers));
        stream.on('error', reject);
      });
      expect(trailers['grpc-status']).toBe(String(Code.DeadlineExceeded));
      expect(decodeURIComponent(String(trailers['grpc-message']))).toBe('the request did not arrive within 400 ms');
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      session.close();
    }
  });

  it('native: a request that arrives in time is served, and the deadline does not end the stream that follows', async () => {
    const jobs = grpcClient(JobService, server, server.keys.viewer);
    await expect(jobs.listJobs({})).resolves.toBeDefined();
    // A follower outlives the read deadline: the request arrived, only its answer goes on.
    const abort = new AbortController();
    const following = (async () => {
      for await (const _ of jobs.watchJobs({}, { signal: abort.signal })) void _;
    })().catch((err: unknown) => err);
    await new Promise((resolve) => setTimeout(resolve, 800));
    abort.abort();
    expect(await following).toMatchObject({ code: Code.Canceled });
  });

  it('gateway: a request whose body never finishes is ended at the deadline (408)', async () => {
    const url = new URL(`${server.httpUrl}/gigafactory.fleet.v1.JobService/ListJobs`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100', authorization: `Bearer ${server.keys.viewer}` } },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      req.write('{');
    });
    expect(status).toBe(408);
  });
});

describe('streams per connection', () => {
  it('native: announces its limit in SETTINGS, and a client over it waits rather than overruns', async () => {
    const session = http2.connect(server.grpcUrl);
    session.on('error', () => {}); // the server may end the connection with the test
    try {
      await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
      expect(session.remoteSettings.maxConcurrentStreams).toBe(7);
    } finally {
      session.close();
    }
  });
});

/**
 * TLS on both listeners and mTLS on the native one, with certificates the test makes itself: a TLS
 * round trip on each listener, a client certificate from the wrong CA (or none) refused by the
 * native listener, and a real agent that enrolls and runs a job over mTLS, storing its token 0600.
 */
import { Code, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as tls from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { FactoryAgent } from '../../agent/agent.js';
import { FACTORY_TOKEN_FILE } from '../../agent/token-files.js';
import { agentChannelCredentials } from '../../src/cli/agent-tls.js';
import { createLogger } from '../../src/logging.js';
import { waitForStage } from '../support/jobs.js';
import { bearer, startSecureServer, type SecureServer } from './helpers.js';
import { makeTestCerts, type TestCerts } from './certs.js';

let certs: TestCerts;
let server: SecureServer;
let grpcsUrl: string;
let httpsUrl: string;

const read = (path: string): Buffer => readFileSync(path);

beforeAll(async () => {
  certs = makeTestCerts();
  server = await startSecureServer({ tlsCertFile: certs.serverCert, tlsKeyFile: certs.serverKey, tlsClientCaFile: certs.caCert });
  grpcsUrl = `https://${server.grpc.address}`;
  httpsUrl = `https://${server.http.address}`;
});
afterAll(async () => {
  await server.stop();
  certs.remove();
});

function grpcJobs(nodeOptions: Record<string, Buffer>, token: string | null = server.keys.viewer) {
  return createClient(JobService, createGrpcTransport({ baseUrl: grpcsUrl, nodeOptions, interceptors: bearer(token) }));
}

/**
 * A raw TLS connection that says the HTTP/2 preface: 'answered' when the server sends its SETTINGS,
 * 'closed' when it drops the connection without a byte (a refused client certificate).
 */
function h2Probe(opts: tls.ConnectionOptions): Promise<'answered' | 'closed'> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: server.grpc.port, servername: 'localhost', ALPNProtocols: ['h2'], ...opts });
    socket.once('data', () => {
      resolve('answered');
      socket.destroy();
    });
    socket.once('secureConnect', () => socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve('closed'));
  });
}

describe('TLS', () => {
  it('native gRPC: a round trip over TLS with a client certificate from the configured CA', async () => {
    const jobs = grpcJobs({ ca: read(certs.caCert), cert: read(certs.clientCert), key: read(certs.clientKey) });
    const res = await jobs.listJobs({ pageSize: 1 });
    expect(res.jobs).toBeDefined();
  });

  it('the Connect gateway: a round trip over https (no client certificate needed there)', async () => {
    const jobs = createClient(JobService, createConnectTransport({ baseUrl: httpsUrl, httpVersion: '1.1', nodeOptions: { ca: read(certs.caCert) }, interceptors: bearer(server.keys.viewer) }));
    await expect(jobs.getJob({ jobId: 'job_missing' })).rejects.toMatchObject({ code: Code.NotFound });
    const health = await fetch(`${httpsUrl}/healthz`).catch((err: unknown) => err);
    expect(health).toBeInstanceOf(Error); // fetch does not trust the test CA: the certificate is really checked
  });

  it('mTLS: the native listener drops a connection whose certificate another CA signed, or that has none', async () => {
    expect(await h2Probe({ ca: read(certs.caCert), cert: read(certs.clientCert), key: read(certs.clientKey) })).toBe('answered');
    expect(await h2Probe({ ca: read(certs.caCert), cert: read(certs.wrongClientCert), key: read(certs.wrongClientKey) })).toBe('closed');
    expect(await h2Probe({ ca: read(certs.caCert) })).toBe('closed');
  });

  it('refuses RPCs with a client certificate from the wrong CA, or without one', async () => {
    const wrong = grpcJobs({ ca: read(certs.caCert), cert: read(certs.wrongClientCert), key: read(certs.wrongClientKey) });
    await expect(wrong.listJobs({})).rejects.toMatchObject({ code: expect.any(Number) });
    const none = grpcJobs({ ca: read(certs.caCert) });
    await expect(none.listJobs({})).rejects.toMatchObject({ code: expect.any(Number) });
    // A client that does not trust the server's CA refuses the server too.
    const distrustful = grpcJobs({ ca: read(certs.wrongCaCert), cert: read(certs.clientCert), key: read(certs.clientKey) });
    await expect(distrustful.listJobs({})).rejects.toMatchObject({ code: expect.any(Number) });
    // The listener is still up for a proper client.
    const good = grpcJobs({ ca: read(certs.caCert), cert: read(certs.clientCert), key: read(certs.clientKey) });
    await good.listJobs({});
  });

  it('plain h2c to the TLS port gets nowhere', async () => {
    const plain = createClient(JobService, createGrpcTransport({ baseUrl: `http://${server.grpc.address}`, interceptors: bearer(server.keys.viewer) }));
    await expect(plain.listJobs({})).rejects.toMatchObject({ code: expect.any(Number) });
  });

  it('an agent enrolls over mTLS, stores its token with mode 0600 and runs a job', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'gigafactory-tls-agent-'));
    const stop = new AbortController();
    try {
      const admin = createClient(AdminService, createGrpcTransport({ baseUrl: grpcsUrl, nodeOptions: { ca: read(certs.caCert), cert: read(certs.clientCert), key: read(certs.clientKey) }, interceptors: bearer(server.keys.admin) }));
      const { token } = await admin.createEnrollmentToken({ factoryId: 'tls-agent', allowedLabels: [{ key: 'os', values: [] }, { key: 'arch', values: [] }] });
      const agent = new FactoryAgent({
        coordinator: server.grpc.address,
        factoryId: 'tls-agent',
        labels: { os: process.platform, arch: process.arch },
        slots: 1,
        workDir,
        log: createLogger({ level: 'silent', pretty: false }),
        credentials: agentChannelCredentials({ tlsCa: certs.caCert, tlsCert: certs.clientCert, tlsKey: certs.clientKey }),
        enrollToken: token,
      });
      const running = agent.run(stop.signal);
      const jobs = grpcJobs({ ca: read(certs.caCert), cert: read(certs.clientCert), key: read(certs.clientKey) }, server.keys.operator);
      const { job } = await jobs.submitJob({ productId: 'tls', command: ['echo', 'over tls'] });
      await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
      expect((await jobs.getJob({ jobId: job!.id })).job!.attempts[0]!.factoryId).toBe('tls-agent');
      const file = join(workDir, FACTORY_TOKEN_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8').trim()).toMatch(/^gff_/);
      // The result's acknowledgement is written to the work dir; let that finish before cleaning up.
      await expect.poll(() => readFileSync(join(workDir, 'pending-results.json'), 'utf8').includes(job!.id)).toBe(false);
      stop.abort();
      await running;
    } finally {
      stop.abort();
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

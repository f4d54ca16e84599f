/**
 * Logs are structured, carry a request id, and never contain secrets: tokens, keys and
 * authorization headers are redacted wherever they appear in a line.
 */
import { ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { ServeConfigSchema } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { startServer } from '../../src/server/app.js';

const dir = mkdtempSync(join(tmpdir(), 'gigafactory-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

it('redacts tokens, keys and authorization wherever they appear', () => {
  const path = join(dir, 'redact.log');
  const log = createLogger({ level: 'info', pretty: false, destination: openSync(path, 'w') });
  log.info({ token: 'tok-SECRET-1', authorization: 'Bearer SECRET-2', request: { token: 'SECRET-3', key: 'SECRET-4' } }, 'with secrets');
  log.info({ factory: { authorization: 'SECRET-5' } }, 'nested');
  const text = readFileSync(path, 'utf8');
  expect(text).not.toMatch(/SECRET/);
  expect(lines(path)[0]).toMatchObject({ token: '[redacted]', authorization: '[redacted]', request: { token: '[redacted]', key: '[redacted]' } });
});

it('gives every RPC a request id: echoed to the caller and on the server lines it causes', async () => {
  const path = join(dir, 'server.log');
  const log = createLogger({ level: 'debug', pretty: false, destination: openSync(path, 'w') });
  const config = ServeConfigSchema.parse({ dataDir: join(dir, 'data'), grpcPort: 0, httpPort: 0, shutdownGraceMs: 250, insecureDev: true });
  const server = await startServer({ config, log });
  try {
    const client = createClient(JobService, createConnectTransport({ baseUrl: `http://${server.http.address}`, httpVersion: '1.1' }));
    const failure = await client.getJob({ jobId: 'job_missing' }, { headers: { 'x-request-id': 'req-42' } }).catch((err: ConnectError) => err);
    const echoed = failure instanceof ConnectError ? failure.metadata.get('x-request-id') : null;
    let fresh: string | null = null;
    await client.submitJob({ productId: 'p', command: ['true'] }, { onHeader: (h) => (fresh = h.get('x-request-id')) });
    const finished = lines(path).filter((l) => l.msg === 'rpc finished');
    expect(finished.find((l) => l.requestId === 'req-42')).toMatchObject({ procedure: '/gigafactory.fleet.v1.JobService/GetJob', code: 'NotFound' });
    const submitLine = finished.find((l) => String(l.procedure).endsWith('SubmitJob'));
    expect(submitLine?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh).toBe(submitLine?.requestId);
    expect(echoed).toBe('req-42');
  } finally {
    await server.close();
  }
});

/**
 * Every refusal is one warn line saying who, what and why, and every admin action one audit line
 * naming the key that did it; no token, key or authorization value ever reaches a line.
 */
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { ServeConfigSchema } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { startServer } from '../../src/server/app.js';
import { newSecret } from '../../src/coordinator/secrets.js';
import type { TestServer } from '../support/server.js';
import { RawFactory } from '../support/raw-factory.js';
import { enrolledFactory, grpcClient, outcome } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gigafactory-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('logs refusals and admin actions without secrets', async () => {
  const path = join(dir, 'server.log');
  const log = createLogger({ level: 'info', pretty: false, destination: openSync(path, 'w') });
  const config = ServeConfigSchema.parse({ dataDir: join(dir, 'data'), grpcPort: 0, httpPort: 0, shutdownGraceMs: 250 });
  const running = await startServer({ config, log });
  const server = { ...running, grpcUrl: `http://${running.grpc.address}` } as unknown as TestServer;
  const secrets: string[] = [];
  try {
    const { key: adminKey } = await running.security.createApiKey('boss', 'admin', 'bootstrap');
    const forged = newSecret('key');
    secrets.push(adminKey, forged);
    expect(await outcome(() => grpcClient(JobService, server, forged).listJobs({}))).toBe('Unauthenticated');
    const admin = grpcClient(AdminService, server, adminKey);
    const { key: viewerKey } = await admin.createApiKey({ name: 'watcher', role: ApiKeyRole.VIEWER });
    secrets.push(viewerKey);
    expect(await outcome(() => grpcClient(JobService, server, viewerKey).submitJob({ productId: 'p', command: ['true'] }))).toBe('PermissionDenied');
    const { token } = await admin.createEnrollmentToken({});
    secrets.push(token);
    await admin.revokeApiKey({ name: 'watcher' });
    await admin.setProductSettings({ productId: 'audited', shareWeight: 2 });
    const factoryToken = await enrolledFactory(server, 'audited-factory');
    secrets.push(factoryToken);
    const factory = new RawFactory(server.grpcUrl, { token: factoryToken });
    factory.hello('audited-factory');
    await factory.next('welcome');
    await admin.drainFactory({ factoryId: 'audited-factory', reason: 'maintenance' });
    factory.finish();
  } finally {
    await running.close();
  }
  const text = readFileSync(path, 'utf8');
  for (const secret of secrets) expect(text).not.toContain(secret.slice(4));
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const refused = lines.filter((l) => l.msg === 'request refused');
  expect(refused).toEqual([
    expect.objectContaining({ level: 40, rpc: 'gigafactory.fleet.v1.JobService/ListJobs', code: 'Unauthenticated', principal: 'none', reason: 'unknown API key', requestId: expect.any(String), peer: expect.stringMatching(/^127\.0\.0\.1:/) }),
    expect.objectContaining({ level: 40, rpc: 'gigafactory.fleet.v1.JobService/SubmitJob', code: 'PermissionDenied', principal: 'key "watcher" (viewer)' }),
  ]);
  const audit = lines.filter((l) => l.msg === 'audit').map((l) => [l.audit, l.actor]);
  expect(audit).toEqual([
    ['api_key_created', 'boss'],
    ['enrollment_token_created', 'boss'],
    ['api_key_revoked', 'boss'],
    ['product_settings_set', 'boss'],
    ['factory_drained', 'boss'],
  ]);
});

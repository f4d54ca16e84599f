/**
 * `gigafactory whoami` through the real CLI process (`bin/gigafactory.mjs`) against a real
 * coordinator with security on: each role's key, text and --json, the key from the environment; a
 * refused, revoked or missing key and an unreachable coordinator exit non-zero saying which; and
 * development mode says so.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startSecureServer, type SecureServer } from '../security/helpers.js';

/** A loopback port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('gigafactory whoami', () => {
  let server: SecureServer;
  let address: string;
  beforeAll(async () => {
    server = await startSecureServer();
    address = server.grpc.address;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each(['viewer', 'operator', 'admin'] as const)('names the %s key and its role', async (role) => {
    const { code, stdout, stderr } = await cli(['--coordinator', address, '--key', server.keys[role], 'whoami']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(`${role} (${role}) at ${address}\n`);
  });

  it('prints JSON with --json, and takes the key from GIGAFACTORY_API_KEY', async () => {
    const { code, stdout } = await cli(['--coordinator', address, '--json', 'whoami'], { GIGAFACTORY_API_KEY: server.keys.operator });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ name: 'operator', role: 'operator', development: false, coordinator: address });
  });

  it('exits non-zero when the key is refused, unknown or revoked, saying the key is the problem', async () => {
    const unknown = await cli(['--coordinator', address, '--key', 'gfk_not-a-key', 'whoami']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(new RegExp(`^error: the coordinator at ${address} refused the API key: .+ \\(Unauthenticated\\)\\n$`));

    const { key } = await server.security.createApiKey('short-lived', 'viewer', 'test');
    expect((await cli(['--coordinator', address, '--key', key, 'whoami'])).code).toBe(0);
    await server.security.revokeApiKey('short-lived', 'test');
    const revoked = await cli(['--coordinator', address, '--key', key, 'whoami']);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(new RegExp(`^error: the coordinator at ${address} refused the API key: .+ \\(Unauthenticated\\)\\n$`));
  });

  it('exits non-zero without a key, saying how to give one', async () => {
    const { code, stdout, stderr } = await cli(['--coordinator', address, 'whoami']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^error: the coordinator at ${address} needs an API key \\(pass --key or set GIGAFACTORY_API_KEY\\): .+ \\(Unauthenticated\\)\\n$`));
  });

  it('exits non-zero when no coordinator answers at the address, saying it cannot reach it', async () => {
    const nowhere = `127.0.0.1:${await closedPort()}`;
    const { code, stdout, stderr } = await cli(['--coordinator', nowhere, '--key', server.keys.viewer, 'whoami']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^error: cannot reach the coordinator at ${nowhere}: .*ECONNREFUSED.* \\(Unavailable\\)\\n$`));
  });
});

describe('gigafactory whoami in development mode', () => {
  let dev: TestServer;
  beforeAll(async () => {
    dev = await startTestServer(); // loopback development mode: no key needed
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it('says the coordinator takes calls without a key, as admin', async () => {
    const text = await cli(['--coordinator', dev.grpc.address, 'whoami']);
    expect(text).toEqual({ code: 0, stderr: '', stdout: `api (admin) at ${dev.grpc.address}\ndevelopment mode: the coordinator takes calls without a key, as admin\n` });
    const json = await cli(['--coordinator', dev.grpc.address, '--json', 'whoami']);
    expect(JSON.parse(json.stdout)).toEqual({ name: 'api', role: 'admin', development: true, coordinator: dev.grpc.address });
  });
});

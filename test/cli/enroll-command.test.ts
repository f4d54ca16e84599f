/**
 * `gigafactory enroll-command` through the real CLI process against a real coordinator with security
 * on: it creates an enrollment token (admin) and prints, per platform, the line that installs the
 * agent and starts it as a service enrolled with that token; a key without the admin role is refused.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentInstallLines } from '../../src/domain/agent-install.js';
import { startSecureServer, type SecureServer } from '../security/helpers.js';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'gigafactory.mjs');

describe('gigafactory enroll-command', () => {
  let server: SecureServer;
  beforeAll(async () => {
    server = await startSecureServer();
  });
  afterAll(() => server.stop());

  const cli = (key: string, args: string[]) => run(process.execPath, [BIN, '--coordinator', server.grpc.address, '--key', key, ...args], { env: { ...process.env, GIGAFACTORY_API_KEY: '' } });

  it('prints the install-and-start line of each platform with a fresh token that enrolls', async () => {
    const args = ['enroll-command', '--address', 'coord.example:7070', '--package', 'https://artifacts.example/gigafactory-agent-0.1.0.tgz', '--factory-id', 'mac-mini-3', '--ttl', '2h'];
    const { stdout } = await cli(server.keys.admin, ['--json', ...args]);
    const printed = JSON.parse(stdout) as { tokenId: string; lines: { platform: string; line: string }[] };
    const token = /--enroll-token (\S+)$/.exec(printed.lines[0]!.line)![1]!;
    expect(printed.lines).toEqual(agentInstallLines({ coordinator: 'coord.example:7070', enrollToken: token, factoryId: 'mac-mini-3', packageSource: 'https://artifacts.example/gigafactory-agent-0.1.0.tgz' }));
    const principal = await server.security.authenticate(token);
    expect(principal.kind).toBe('enrollment');

    const text = (await cli(server.keys.admin, args)).stdout;
    expect(text).toMatch(/^enrollment token \S+, valid once until .*On the new machine:/);
    for (const where of ['# Linux (systemd), in a shell', '# macOS (launchd), in Terminal', '# Windows, in an elevated Command Prompt with NSSM on PATH']) expect(text).toContain(`${where}\n`);
    expect(text).toContain('sudo npm install -g https://artifacts.example/gigafactory-agent-0.1.0.tgz && sudo gigafactory-agent --coordinator coord.example:7070 install-service --id mac-mini-3 --enroll-token gfe');
  });

  it('is refused to a key without the admin role', async () => {
    const refused = await cli(server.keys.operator, ['enroll-command']).catch((err: { code: number; stderr: string }) => err);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('PermissionDenied') });
  });
});

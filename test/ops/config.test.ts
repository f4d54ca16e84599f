/**
 * One typed configuration: file < environment < flags, refused at start with a message naming the
 * setting and its source, and printed with secrets masked.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetSettings, resolveWithSources } from '../../src/config.js';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'gigafactory.mjs');
const dir = mkdtempSync(join(tmpdir(), 'gigafactory-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveWithSources', () => {
  const file = { path: 'gf.yaml', values: { grpcPort: 7001, httpPort: 8001, leaseTtlMs: 20_000 } };
  it('takes flags over environment over file over defaults, and says where each came from', () => {
    const { config, sources } = resolveWithSources({ grpcPort: '7003' }, { GIGAFACTORY_GRPC_PORT: '7002', GIGAFACTORY_HTTP_PORT: '8002' }, file);
    expect(config).toMatchObject({ grpcPort: 7003, httpPort: 8002, leaseTtlMs: 20_000, heartbeatIntervalMs: 5_000 });
    expect(sources).toMatchObject({
      grpcPort: 'flag --grpc-port',
      httpPort: 'environment variable GIGAFACTORY_HTTP_PORT',
      leaseTtlMs: 'config file gf.yaml',
      heartbeatIntervalMs: 'default',
    });
  });

  it('refuses a bad value naming the setting and its source', () => {
    expect(() => resolveWithSources({}, { GIGAFACTORY_LEASE_TTL_MS: 'soon' }, null)).toThrow(/leaseTtlMs \(environment variable GIGAFACTORY_LEASE_TTL_MS\)/);
    expect(() => resolveWithSources({ logLevel: 'loud' }, {}, null)).toThrow(/logLevel \(flag --log-level\)/);
    expect(() => resolveWithSources({}, {}, { path: 'x.yaml', values: { grpcPort: 70000 } })).toThrow(/grpcPort \(config file x.yaml\)/);
  });

  it('needs a signing secret with a tracker echo URL, and only http(s) URLs', () => {
    expect(() => resolveWithSources({ trackerEchoUrl: 'https://tracker.example/hook' }, {}, null)).toThrow(
      /trackerEchoSecret \(default\): required when trackerEchoUrl is set: every echo is signed/,
    );
    expect(() => resolveWithSources({}, { GIGAFACTORY_TRACKER_ECHO_URL: 'ftp://tracker.example/hook', GIGAFACTORY_TRACKER_ECHO_SECRET: 'x'.repeat(16) }, null)).toThrow(
      /trackerEchoUrl \(environment variable GIGAFACTORY_TRACKER_ECHO_URL\): must be an http or https URL/,
    );
    expect(() => resolveWithSources({ trackerEchoUrl: 'http://127.0.0.1:1/h', trackerEchoSecret: 'short' }, {}, null)).toThrow(/trackerEchoSecret \(flag --tracker-echo-secret\): must be at least 16 characters/);
    const { config } = resolveWithSources({}, { GIGAFACTORY_TRACKER_ECHO_URL: 'http://127.0.0.1:1/h', GIGAFACTORY_TRACKER_ECHO_SECRET: 's'.repeat(20) }, null);
    expect(config).toMatchObject({ trackerEchoUrl: 'http://127.0.0.1:1/h', trackerEchoTimeoutMs: 10_000, trackerEchoMaxAttempts: 50 });
  });

  it('takes a positive reconnect grace', () => {
    expect(resolveWithSources({}, {}, null).config.reconnectGraceMs).toBe(3_000);
    expect(fleetSettings(resolveWithSources({}, { GIGAFACTORY_RECONNECT_GRACE_MS: '1500' }, null).config).reconnectGraceMs).toBe(1_500);
    expect(() => resolveWithSources({ reconnectGraceMs: '0' }, {}, null)).toThrow(/reconnectGraceMs \(flag --reconnect-grace-ms\)/);
    expect(() => resolveWithSources({}, { GIGAFACTORY_RECONNECT_GRACE_MS: 'soon' }, null)).toThrow(/reconnectGraceMs \(environment variable GIGAFACTORY_RECONNECT_GRACE_MS\)/);
    expect(() => resolveWithSources({}, {}, { path: 'x.yaml', values: { reconnectGraceMs: 1.5 } })).toThrow(/reconnectGraceMs \(config file x.yaml\)/);
  });

  it('refuses an unknown setting in the file', () => {
    expect(() => resolveWithSources({}, {}, { path: 'x.yaml', values: { leaseTTL: 1 } })).toThrow(/unknown setting "leaseTTL"/);
  });
});

describe('the CLI', () => {
  it('`config print` shows effective values and sources', async () => {
    const path = join(dir, 'gf.yaml');
    writeFileSync(path, 'grpcPort: 7171\nleaseTtlMs: 20000\n');
    const { stdout } = await run(process.execPath, [BIN, '--json', 'config', 'print', '--config', path, '--http-port', '9090'], {
      env: { ...process.env, GIGAFACTORY_LEASE_TTL_MS: '30000' },
    });
    const printed = JSON.parse(stdout);
    expect(printed.grpcPort).toEqual({ value: 7171, source: `config file ${path}` });
    expect(printed.httpPort).toEqual({ value: 9090, source: 'flag --http-port' });
    expect(printed.leaseTtlMs).toEqual({ value: 30000, source: 'environment variable GIGAFACTORY_LEASE_TTL_MS' });
  });

  it('`config print` masks the tracker echo secret', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'config', 'print', '--tracker-echo-url', 'https://tracker.example/hook'], {
      env: { ...process.env, GIGAFACTORY_TRACKER_ECHO_SECRET: 'do-not-print-this-secret' },
    });
    expect(stdout).not.toContain('do-not-print-this-secret');
    expect(stdout).toMatch(/trackerEchoSecret\s+"\*{8}"\s+environment variable GIGAFACTORY_TRACKER_ECHO_SECRET/);
    expect(stdout).toMatch(/trackerEchoUrl\s+"https:\/\/tracker.example\/hook"\s+flag --tracker-echo-url/);
  });

  it('`serve` with an invalid setting exits 2 before listening, naming the setting', async () => {
    const failure = await run(process.execPath, [BIN, 'serve', '--data-dir', join(dir, 'd'), '--grpc-port', 'abc']).catch((err: { code: number; stderr: string }) => err);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain('grpcPort (flag --grpc-port)');
  });

  it('a malformed config file is refused with its path', async () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'grpcPort: [unclosed\n');
    const failure = await run(process.execPath, [BIN, 'config', 'print', '--config', path]).catch((err: { code: number; stderr: string }) => err);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain(`config file ${path} is not valid YAML or JSON`);
  });
});

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
import { resolveWithSources } from '../../src/config.js';

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

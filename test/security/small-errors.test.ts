/**
 * Errors stay small and true: a refusal quotes at most 200 characters of any input (and says how
 * long it was), on both listeners; a full disk is RESOURCE_EXHAUSTED in words, and /readyz is not
 * ready while the data dir's disk is short of room.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { createLogger } from '../../src/logging.js';
import { compact, toConnectError } from '../../src/server/errors.js';
import { isDiskFull } from '../../src/store/store-errors.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { gatewayClient, grpcClient } from './helpers.js';

describe('refusals quote little of their input', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it.each([
    ['native', grpcClient],
    ['gateway', gatewayClient],
  ] as const)('%s: a 70,000-character product id comes back as a short message naming its length', async (_, client) => {
    const productId = 'A'.repeat(70_000);
    const err = await client(JobService, server, null)
      .submitJob({ productId, command: ['true'] })
      .catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.InvalidArgument });
    const message = (err as ConnectError).rawMessage;
    expect(message).toBe(`product_id "${'A'.repeat(200)}…" (70,000 characters) must be 1-63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit`);
  });

  it('compact leaves short quotes alone and cuts any message at 1,000 characters', () => {
    expect(compact('name "x" is taken')).toBe('name "x" is taken');
    const long = compact(`bad: ${'y'.repeat(5_000)}`);
    expect(long.length).toBeLessThan(1_100);
    expect(long).toMatch(/message cut at 1000 of 5,005 characters\)$/);
  });
});

describe('a full disk', () => {
  it('SQLite says so in its own code, and the client gets RESOURCE_EXHAUSTED in words', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gigafactory-full-'));
    try {
      const db = new Database(join(dir, 'full.sqlite'));
      db.exec('CREATE TABLE t (v BLOB)');
      // The file may not grow past its current pages: the next big insert meets "database or disk is full".
      db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
      let thrown: unknown = null;
      try {
        db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(1024 * 1024));
      } catch (err) {
        thrown = err;
      }
      db.close();
      expect(isDiskFull(thrown)).toBe(true);
      const mapped = toConnectError(thrown, createLogger({ level: 'silent', pretty: false }), '/gigafactory.fleet.v1.JobService/SubmitJob');
      expect(mapped.code).toBe(Code.ResourceExhausted);
      expect(mapped.rawMessage).toBe('the coordinator cannot write: its disk is full; nothing was changed, try again once there is room');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('/readyz is not ready while the data dir has less room than minFreeDiskBytes', async () => {
    const short = await startTestServer({ minFreeDiskBytes: Number.MAX_SAFE_INTEGER });
    const roomy = await startTestServer();
    try {
      const notReady = await fetch(`${short.httpUrl}/readyz`);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { problems: string[] }).problems).toEqual([expect.stringMatching(/^disk nearly full: \d+ MiB free in .+, below \d+ MiB$/)]);
      expect((await fetch(`${roomy.httpUrl}/readyz`)).status).toBe(200);
    } finally {
      await short.stop();
      await roomy.stop();
    }
  });
});

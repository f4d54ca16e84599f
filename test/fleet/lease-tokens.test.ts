/**
 * Lease tokens: the text form, the staleness rule, and the key ring shared through a store
 * (two LeaseKeys over one SQLite file stand for two replicas).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseKeys } from '../../src/coordinator/lease-keys.js';
import { DomainError } from '../../src/domain/errors.js';
import { accept, newJob, offer } from '../../src/domain/lifecycle.js';
import { parseLeaseToken, staleLeaseReason } from '../../src/domain/lease-token.js';
import { openStore } from '../../src/store/open-store.js';
import { SqliteLeaseKeyStore } from '../../src/store/sqlite/sqlite-lease-key-store.js';
import { MemoryLeaseKeyStore } from '../../src/store/memory/memory-lease-key-store.js';
import { spec, T0, TIMINGS } from '../domain/helpers.js';

const DAY = 24 * 60 * 60 * 1000;

function runningJob(at = T0) {
  const { job } = newJob(spec({ timeoutMs: 60_000 }), 'job-1', at, 'test');
  return accept(offer(job, 'f1', at, TIMINGS).job, 'f1', 1, at, TIMINGS).job;
}

describe('lease tokens', () => {
  it('round-trips its claims and verifies; any changed byte fails the signature', async () => {
    const clock = { now: () => T0 };
    const keys = new LeaseKeys(new MemoryLeaseKeyStore(), clock);
    await keys.load();
    const token = keys.issue(runningJob());
    expect(token.length).toBeLessThan(220);
    const verified = await keys.verify(token);
    expect(verified).toMatchObject({ t: 'verified', claims: { jobId: 'job-1', epoch: 1, factoryId: 'f1', keyId: keys.published()[0]!.keyId } });
    // The token of a job with a one-minute timeout lives a little longer than that, not a day.
    if (verified.t === 'verified') expect(verified.claims.expiresAt - T0).toBeLessThan(15 * 60_000);
    const [prefix, claims, sig] = token.split('.') as [string, string, string];
    const forged = Buffer.from(claims, 'base64url').toString().replace('"e":1', '"e":9');
    expect(await keys.verify(`${prefix}.${Buffer.from(forged).toString('base64url')}.${sig}`)).toEqual({ t: 'unverified', reason: 'the signature does not verify' });
  });

  it('refuses what is not a token with INVALID_ARGUMENT naming the problem', async () => {
    const keys = new LeaseKeys(new MemoryLeaseKeyStore(), { now: () => T0 });
    for (const [bad, message] of [
      ['', /empty/],
      ['hello', /not a lease token/],
      ['gfl1.!!!.x', /base64url JSON/],
      [`gfl1.${Buffer.from('{"j":1}').toString('base64url')}.x`, /must have j/],
      ['gfl1.' + 'a'.repeat(5000) + '.x', /at most 4096/],
    ] as const) {
      await expect(keys.verify(bad)).rejects.toSatisfy((err: unknown) => err instanceof DomainError && err.code === 'invalid_argument' && message.test(err.message));
    }
    expect(() => parseLeaseToken('gfl1.a.b.c')).toThrow(/not a lease token/);
  });

  it('is stale once superseded, ended, lapsed or expired', () => {
    const job = runningJob();
    const claims = { jobId: job.id, epoch: 1, factoryId: 'f1', expiresAt: T0 + DAY, keyId: 'k' };
    expect(staleLeaseReason(claims, job, T0 + 1)).toBeNull();
    expect(staleLeaseReason(claims, { ...job, epoch: 2, lease: { factoryId: 'f2', epoch: 2, expiresAt: T0 + 9_000 } }, T0 + 1)).toMatch(/superseded: job job-1 is at epoch 2, the token is for epoch 1/);
    expect(staleLeaseReason(claims, { ...job, stage: 'succeeded', lease: null }, T0 + 1)).toMatch(/has ended \(job job-1 is succeeded\)/);
    expect(staleLeaseReason(claims, job, job.lease!.expiresAt)).toMatch(/lapsed at/);
    expect(staleLeaseReason(claims, null, T0)).toBe('job job-1 not found');
    expect(staleLeaseReason({ ...claims, expiresAt: T0 }, job, T0)).toMatch(/token expired/);
  });
});

describe('lease keys shared through a store', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('two replicas sign with one key; a rotation keeps the previous key verifying, the next drops it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lease-keys-'));
    const path = join(dir, 'db.sqlite');
    openStore({ kind: 'sqlite', path }).close(); // migrates the file
    let now = T0;
    const clock = { now: () => now };
    const [storeA, storeB] = [new SqliteLeaseKeyStore(path), new SqliteLeaseKeyStore(path)];
    const a = new LeaseKeys(storeA, clock);
    const b = new LeaseKeys(storeB, clock);
    await Promise.all([a.load(), b.load()]);
    expect(b.published()).toEqual(a.published());
    const old = a.issue(runningJob());
    expect(await b.verify(old)).toMatchObject({ t: 'verified' });

    now += DAY; // A rotates; B learns of the new key when it first meets a token signed with it
    await a.load();
    expect(a.published()).toHaveLength(2);
    const fresh = a.issue(runningJob(now));
    expect(await b.verify(fresh)).toMatchObject({ t: 'verified' });
    expect(await b.verify(old)).toMatchObject({ t: 'verified' });

    now += DAY; // B rotates this time: the first key is gone
    await b.load();
    expect(await b.verify(old)).toMatchObject({ t: 'unverified', reason: expect.stringMatching(/not \(or no longer\) published/) });
    expect(await b.verify(fresh)).toMatchObject({ t: 'verified' });
    storeA.close();
    storeB.close();
  });
});

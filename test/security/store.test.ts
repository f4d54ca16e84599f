/**
 * The SecurityStore providers (SQLite in the coordinator's file, memory) behave the same: one
 * redemption per enrollment token, compare-and-set on factory credentials, names never reused,
 * and (SQLite) credentials that survive a reopen beside the jobs in the same file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashSecret, newSecret } from '../../src/coordinator/secrets.js';
import { Security } from '../../src/coordinator/security.js';
import { RevisionConflict } from '../../src/store/job-store.js';
import { MemorySecurityStore } from '../../src/store/memory/memory-security-store.js';
import type { FactoryCredentialRecord, SecurityStore } from '../../src/store/security-store.js';
import { SqliteSecurityStore } from '../../src/store/sqlite/sqlite-security-store.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gigafactory-security-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const providers: [string, () => SecurityStore][] = [
  ['memory', () => new MemorySecurityStore()],
  ['sqlite', () => new SqliteSecurityStore(join(dir, `s${++files}.sqlite`))],
];

function credential(factoryId: string, token = newSecret('factory')): FactoryCredentialRecord {
  return {
    factoryId,
    tokenHash: hashSecret(token),
    previousTokenHash: null,
    previousExpiresAt: null,
    allowedLabels: [{ key: 'os', values: ['linux'] }],
    allowedProducts: [],
    enrolledAt: 1,
    enrollmentTokenId: 'enr_x',
    rotatedAt: null,
    revokedAt: null,
    revokedBy: null,
    revokeReason: '',
    revision: 1,
  };
}

describe.each(providers)('%s SecurityStore', (_name, open) => {
  it('redeems an enrollment token exactly once, even when two factories race for it', async () => {
    const store = open();
    const token = newSecret('enrollment');
    await store.insertEnrollmentToken({ id: 'enr_race', tokenHash: hashSecret(token), createdAt: 0, expiresAt: 10_000, createdBy: 't', allowedLabels: [], allowedProducts: [], factoryId: '', description: '', usedAt: null, usedBy: null });
    const results = await Promise.all([store.redeemEnrollmentToken(hashSecret(token), 5, credential('a')), store.redeemEnrollmentToken(hashSecret(token), 5, credential('b'))]);
    expect(results.map((r) => r.t).sort()).toEqual(['redeemed', 'used']);
    expect((await store.getFactoryCredential('a')) === null || (await store.getFactoryCredential('b')) === null).toBe(true);
    expect(await store.redeemEnrollmentToken(hashSecret('nope'), 5, credential('c'))).toEqual({ t: 'not_found' });
    await store.close();
  });

  it('finds a credential by its current and previous token; compare-and-set refuses a stale write', async () => {
    const store = open();
    const first = newSecret('factory');
    await store.putFactoryCredential(credential('f', first));
    const second = newSecret('factory');
    const rotated = { ...credential('f', second), previousTokenHash: hashSecret(first), previousExpiresAt: 99, revision: 2 };
    await store.putFactoryCredential(rotated);
    expect((await store.findFactoryCredential(hashSecret(first)))?.factoryId).toBe('f');
    expect((await store.findFactoryCredential(hashSecret(second)))?.revision).toBe(2);
    await expect(store.putFactoryCredential({ ...rotated, revision: 2 })).rejects.toBeInstanceOf(RevisionConflict);
    await expect(store.putFactoryCredential(credential('f'))).rejects.toBeInstanceOf(RevisionConflict);
    await store.close();
  });

  it('never reuses an API key name; revoking is idempotent', async () => {
    const store = open();
    const security = new Security(store, { now: () => 1_000 }, { rotationOverlapMs: 0 });
    const { key } = await security.createApiKey('ops', 'operator', 'test');
    await expect(security.createApiKey('ops', 'viewer', 'test')).rejects.toMatchObject({ code: 'already_exists' });
    const revoked = await security.revokeApiKey('ops', 'admin');
    expect(revoked).toMatchObject({ name: 'ops', revokedAt: 1_000, revokedBy: 'admin' });
    expect(await store.revokeApiKey('ops', 2_000, 'other')).toMatchObject({ revokedAt: 1_000, revokedBy: 'admin' });
    await expect(security.authenticate(key)).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(security.createApiKey('ops', 'viewer', 'test')).rejects.toMatchObject({ code: 'already_exists' });
    await store.close();
  });
});

describe('SQLite credentials', () => {
  it('live in the job store file and survive a reopen', async () => {
    const path = join(dir, 'shared.sqlite');
    const jobs = openSqliteStore(path);
    const store = new SqliteSecurityStore(path);
    const { key } = await new Security(store, { now: () => 0 }, { rotationOverlapMs: 0 }).createApiKey('durable', 'admin', 'test');
    await store.close();
    await jobs.close();
    const reopened = new SqliteSecurityStore(path);
    const principal = await new Security(reopened, { now: () => 0 }, { rotationOverlapMs: 0 }).authenticate(key);
    expect(principal).toMatchObject({ kind: 'key', name: 'durable', role: 'admin' });
    await reopened.close();
  });
});

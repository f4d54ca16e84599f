/**
 * The behaviour every SecurityStore provider must share (memory, SQLite, Cosmos), run by each
 * provider's test file against its own factory: the coordinator's Security is written against the
 * interface, so a difference here would be a hole in only one deployment.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret, newSecret } from '../../src/coordinator/secrets.js';
import { RevisionConflict } from '../../src/store/job-store.js';
import type { ApiKeyRecord, EnrollmentTokenRecord, FactoryCredentialRecord, SecurityStore } from '../../src/store/security-store.js';

export interface SecurityStoreHarness {
  store: SecurityStore;
  cleanup(): Promise<void>;
}

const T = 1_700_000_000_000;

function enrollment(overrides: Partial<EnrollmentTokenRecord> = {}): EnrollmentTokenRecord {
  return {
    id: `enr_${Math.random().toString(36).slice(2)}`,
    tokenHash: hashSecret(newSecret('enrollment')),
    createdAt: T,
    expiresAt: T + 60_000,
    createdBy: 'alice',
    allowedLabels: [{ key: 'gpu', values: ['a100', 'h100'] }, { key: 'os', values: [] }],
    allowedProducts: ['render', 'build'],
    factoryId: '',
    description: 'rack 7 ✓ "quoted"',
    usedAt: null,
    usedBy: null,
    ...overrides,
  };
}

function credential(factoryId: string, overrides: Partial<FactoryCredentialRecord> = {}): FactoryCredentialRecord {
  return {
    factoryId,
    tokenHash: hashSecret(newSecret('factory')),
    previousTokenHash: null,
    previousExpiresAt: null,
    allowedLabels: [{ key: 'os', values: ['linux'] }],
    allowedProducts: [],
    enrolledAt: T,
    enrollmentTokenId: 'enr_x',
    rotatedAt: null,
    revokedAt: null,
    revokedBy: null,
    revokeReason: '',
    revision: 1,
    ...overrides,
  };
}

function apiKey(name: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return { id: `key_${name}`, name, role: 'operator', keyHash: hashSecret(newSecret('key')), createdAt: T, createdBy: 'bootstrap', revokedAt: null, revokedBy: null, ...overrides };
}

export function describeSecurityStoreConformance(name: string, make: () => Promise<SecurityStoreHarness>): void {
  describe(`SecurityStore conformance: ${name}`, () => {
    let harness: SecurityStoreHarness | undefined;
    beforeEach(async () => {
      harness = await make();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });
    const store = (): SecurityStore => harness!.store;

    it('stores an enrollment token as given and finds it by its hash only', async () => {
      const token = enrollment();
      await store().insertEnrollmentToken(token);
      expect(await store().findEnrollmentToken(token.tokenHash)).toStrictEqual(token);
      expect(await store().findEnrollmentToken(hashSecret('other'))).toBeNull();
    });

    it('redeems a token once, marking it used by the factory and storing the credential at revision 1', async () => {
      const token = enrollment();
      await store().insertEnrollmentToken(token);
      const cred = credential('f1');
      const outcome = await store().redeemEnrollmentToken(token.tokenHash, T + 5, cred);
      expect(outcome).toStrictEqual({ t: 'redeemed', token: { ...token, usedAt: T + 5, usedBy: 'f1' } });
      expect(await store().findEnrollmentToken(token.tokenHash)).toStrictEqual({ ...token, usedAt: T + 5, usedBy: 'f1' });
      expect(await store().getFactoryCredential('f1')).toStrictEqual(cred);
      expect(await store().findFactoryCredential(cred.tokenHash)).toStrictEqual(cred);
      expect(await store().redeemEnrollmentToken(token.tokenHash, T + 6, credential('f2'))).toStrictEqual({ t: 'used', token: { ...token, usedAt: T + 5, usedBy: 'f1' } });
      expect(await store().getFactoryCredential('f2')).toBeNull();
    });

    it('refuses unknown and expired tokens without changing anything', async () => {
      const token = enrollment({ expiresAt: T + 10 });
      await store().insertEnrollmentToken(token);
      expect(await store().redeemEnrollmentToken(hashSecret('nope'), T, credential('f1'))).toStrictEqual({ t: 'not_found' });
      expect(await store().redeemEnrollmentToken(token.tokenHash, T + 10, credential('f1'))).toStrictEqual({ t: 'expired', token });
      expect(await store().findEnrollmentToken(token.tokenHash)).toStrictEqual(token);
      expect(await store().getFactoryCredential('f1')).toBeNull();
    });

    it('lets exactly one of two racing redemptions of one token win', async () => {
      const token = enrollment();
      await store().insertEnrollmentToken(token);
      const results = await Promise.all([
        store().redeemEnrollmentToken(token.tokenHash, T + 1, credential('a')),
        store().redeemEnrollmentToken(token.tokenHash, T + 1, credential('b')),
      ]);
      expect(results.map((r) => r.t).sort()).toEqual(['redeemed', 'used']);
      const winner = (results.find((r) => r.t === 'redeemed') as { token: EnrollmentTokenRecord }).token.usedBy!;
      const loser = winner === 'a' ? 'b' : 'a';
      expect(await store().getFactoryCredential(winner)).not.toBeNull();
      expect(await store().getFactoryCredential(loser)).toBeNull();
    });

    it('refuses to enroll an id that is enrolled and not revoked, leaving the token unused; a revoked id enrolls again', async () => {
      const first = credential('f1');
      await store().putFactoryCredential(first);
      const token = enrollment();
      await store().insertEnrollmentToken(token);
      expect(await store().redeemEnrollmentToken(token.tokenHash, T + 1, credential('f1'))).toStrictEqual({ t: 'factory_enrolled' });
      expect((await store().findEnrollmentToken(token.tokenHash))?.usedAt).toBeNull();

      await store().putFactoryCredential({ ...first, revokedAt: T + 2, revokedBy: 'admin', revokeReason: 'stolen', revision: 2 });
      const again = credential('f1', { enrolledAt: T + 3 });
      expect((await store().redeemEnrollmentToken(token.tokenHash, T + 3, again)).t).toBe('redeemed');
      expect(await store().getFactoryCredential('f1')).toStrictEqual({ ...again, revision: 3 });
      expect(await store().findFactoryCredential(first.tokenHash)).toBeNull();
    });

    it('lets exactly one of two tokens racing for one factory id enroll it; the other token stays unused', async () => {
      const [x, y] = [enrollment(), enrollment()];
      await store().insertEnrollmentToken(x);
      await store().insertEnrollmentToken(y);
      const results = await Promise.all([
        store().redeemEnrollmentToken(x.tokenHash, T + 1, credential('same')),
        store().redeemEnrollmentToken(y.tokenHash, T + 1, credential('same')),
      ]);
      expect(results.map((r) => r.t).sort()).toEqual(['factory_enrolled', 'redeemed']);
      const loser = results[0]!.t === 'redeemed' ? y : x;
      expect((await store().findEnrollmentToken(loser.tokenHash))?.usedAt).toBeNull();
      expect((await store().getFactoryCredential('same'))?.revision).toBe(1);
    });

    it('finds a credential by its current and previous token, and by neither once they are dropped', async () => {
      const first = credential('f1');
      await store().putFactoryCredential(first);
      const rotated = { ...first, tokenHash: hashSecret(newSecret('factory')), previousTokenHash: first.tokenHash, previousExpiresAt: T + 99, rotatedAt: T + 1, revision: 2 };
      await store().putFactoryCredential(rotated);
      expect(await store().findFactoryCredential(first.tokenHash)).toStrictEqual(rotated);
      expect(await store().findFactoryCredential(rotated.tokenHash)).toStrictEqual(rotated);
      const revoked = { ...rotated, previousTokenHash: null, previousExpiresAt: null, revokedAt: T + 2, revokedBy: 'admin', revokeReason: 'gone', revision: 3 };
      await store().putFactoryCredential(revoked);
      expect(await store().findFactoryCredential(first.tokenHash)).toBeNull(); // no longer named by the credential
      expect(await store().findFactoryCredential(rotated.tokenHash)).toStrictEqual(revoked); // found, and revoked
      expect(await store().findFactoryCredential(hashSecret('unknown'))).toBeNull();
    });

    it('compare-and-sets factory credentials on the revision', async () => {
      const first = credential('f1');
      await store().putFactoryCredential(first);
      await expect(store().putFactoryCredential(credential('f1'))).rejects.toBeInstanceOf(RevisionConflict);
      await expect(store().putFactoryCredential({ ...first, revision: 3 })).rejects.toBeInstanceOf(RevisionConflict);
      await expect(store().putFactoryCredential(credential('never-stored', { revision: 2 }))).rejects.toBeInstanceOf(RevisionConflict);
      const racers = await Promise.allSettled([
        store().putFactoryCredential({ ...first, revokeReason: 'a', revision: 2 }),
        store().putFactoryCredential({ ...first, revokeReason: 'b', revision: 2 }),
      ]);
      expect(racers.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((racers.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(RevisionConflict);
      expect((await store().getFactoryCredential('f1'))?.revision).toBe(2);
    });

    it('tells which of the given factories are revoked', async () => {
      await store().putFactoryCredential(credential('active'));
      const doomed = credential('doomed');
      await store().putFactoryCredential(doomed);
      await store().putFactoryCredential({ ...doomed, revokedAt: T + 1, revokedBy: 'admin', revision: 2 });
      expect(await store().revokedAmong(['active', 'doomed', 'unknown'])).toEqual(['doomed']);
      expect(await store().revokedAmong([])).toEqual([]);
    });

    it('keeps API keys by hash, never reuses a name, lists them by name and revokes once', async () => {
      const ops = apiKey('ops');
      expect(await store().insertApiKey(ops)).toBe('inserted');
      expect(await store().insertApiKey(apiKey('ops', { role: 'viewer' }))).toBe('name_taken');
      expect(await store().insertApiKey(apiKey('ci', { role: 'admin' }))).toBe('inserted');
      expect(await store().findApiKey(ops.keyHash)).toStrictEqual(ops);
      expect(await store().findApiKey(hashSecret('nope'))).toBeNull();
      expect((await store().listApiKeys()).map((k) => k.name)).toEqual(['ci', 'ops']);

      const revoked = { ...ops, revokedAt: T + 1, revokedBy: 'admin' };
      expect(await store().revokeApiKey('ops', T + 1, 'admin')).toStrictEqual(revoked);
      expect(await store().revokeApiKey('ops', T + 2, 'other')).toStrictEqual(revoked);
      expect(await store().findApiKey(ops.keyHash)).toStrictEqual(revoked);
      expect(await store().revokeApiKey('nobody', T, 'admin')).toBeNull();
      expect(await store().insertApiKey(apiKey('ops'))).toBe('name_taken');
    });

    it('gives one of two racing creations of a name the key', async () => {
      const results = await Promise.all([store().insertApiKey(apiKey('twin')), store().insertApiKey(apiKey('twin'))]);
      expect(results.sort()).toEqual(['inserted', 'name_taken']);
      expect(await store().listApiKeys()).toHaveLength(1);
    });
  });
}

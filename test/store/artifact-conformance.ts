/** The behaviour every ArtifactStore provider must share (memory, SQLite, Cosmos). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactRecord, UploadRecord } from '../../src/domain/artifact.js';
import { ArtifactExists, ArtifactQuotaExceeded, type ArtifactStore } from '../../src/store/artifact-store.js';

export interface ArtifactStoreHarness {
  store: ArtifactStore;
  cleanup(): Promise<void>;
}

const T0 = 1_700_000_000_000;
const digest = (c: string): string => c.repeat(64);

function file(overrides: Partial<ArtifactRecord> = {}): ArtifactRecord {
  return {
    jobId: 'job-1',
    productId: 'render',
    epoch: 1,
    kind: 'artifact',
    name: 'out/report.txt',
    sizeBytes: 100,
    sha256: digest('a'),
    contentType: 'text/plain',
    factoryId: 'f1',
    createdAt: T0,
    ...overrides,
  };
}

const upload = (uploadId: string, a: ArtifactRecord = file()): UploadRecord => ({ ...a, uploadId });

export function describeArtifactStoreConformance(name: string, make: () => Promise<ArtifactStoreHarness>): void {
  describe(`ArtifactStore conformance: ${name}`, () => {
    let harness: ArtifactStoreHarness | undefined;
    beforeEach(async () => {
      harness = await make();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });
    const store = (): ArtifactStore => harness!.store;

    it('keeps an upload under its id until deleted, the first one recorded winning', async () => {
      expect(await store().getUpload('u1')).toBeNull();
      await store().putUpload(upload('u1'));
      await store().putUpload(upload('u1', file({ name: 'other' })));
      expect(await store().getUpload('u1')).toStrictEqual(upload('u1'));
      await store().putUpload(upload('u2', file({ createdAt: T0 + 10 })));
      expect((await store().listUploadsBefore(T0 + 5, 10)).map((u) => u.uploadId)).toEqual(['u1']);
      expect(await store().listUploadsBefore(T0 + 50, 1)).toHaveLength(1);
      await store().deleteUpload('u1');
      await store().deleteUpload('u1');
      expect(await store().getUpload('u1')).toBeNull();
    });

    it('attaches a file, drops its upload, and finds it by key, latest epoch or listing', async () => {
      await store().putUpload(upload('u1'));
      expect(await store().attach(file(), 'u1', 0)).toStrictEqual(file());
      expect(await store().getUpload('u1')).toBeNull();
      await store().attach(file({ epoch: 2, sha256: digest('b') }), 'u2', 0);
      await store().attach(file({ epoch: 2, kind: 'checkpoint', name: 'state.bin' }), 'u3', 0);
      await store().attach(file({ epoch: 1, name: 'a.txt' }), 'u4', 0);
      expect(await store().getArtifact({ jobId: 'job-1', epoch: 1, kind: 'artifact', name: 'out/report.txt' })).toStrictEqual(file());
      expect((await store().getArtifact({ jobId: 'job-1', epoch: 0, kind: 'artifact', name: 'out/report.txt' }))?.epoch).toBe(2);
      expect(await store().getArtifact({ jobId: 'job-1', epoch: 3, kind: 'artifact', name: 'out/report.txt' })).toBeNull();
      expect(await store().getArtifact({ jobId: 'job-1', epoch: 1, kind: 'checkpoint', name: 'out/report.txt' })).toBeNull();
      const listed = (await store().listArtifacts('job-1', {})).map((a) => [a.epoch, a.kind, a.name]);
      expect(listed).toEqual([
        [1, 'artifact', 'a.txt'],
        [1, 'artifact', 'out/report.txt'],
        [2, 'artifact', 'out/report.txt'],
        [2, 'checkpoint', 'state.bin'],
      ]);
      expect((await store().listArtifacts('job-1', { epoch: 2, kind: 'checkpoint' })).map((a) => a.name)).toEqual(['state.bin']);
      expect(await store().listArtifacts('job-2', {})).toEqual([]);
    });

    it('returns the stored row for the same content again, refuses other content, and counts the file once', async () => {
      await store().attach(file(), 'u1', 0);
      await store().putUpload(upload('u2'));
      expect(await store().attach(file({ createdAt: T0 + 99 }), 'u2', 0)).toStrictEqual(file());
      expect(await store().getUpload('u2')).toBeNull();
      await store().putUpload(upload('u3'));
      const refused = await store().attach(file({ sha256: digest('c') }), 'u3', 0).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(ArtifactExists);
      expect((refused as ArtifactExists).existing).toStrictEqual(file());
      expect(await store().getUpload('u3')).not.toBeNull();
      expect(await store().productUsage('render')).toBe(100);
    });

    it('keeps a product within its quota and writes nothing for a file that does not fit', async () => {
      await store().attach(file({ sizeBytes: 60 }), 'u1', 100);
      await store().putUpload(upload('u2'));
      const refused = await store().attach(file({ name: 'big', sizeBytes: 41 }), 'u2', 100).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(ArtifactQuotaExceeded);
      expect(refused).toMatchObject({ productId: 'render', usedBytes: 60, limitBytes: 100 });
      expect(await store().getUpload('u2')).not.toBeNull();
      expect(await store().getArtifact({ jobId: 'job-1', epoch: 1, kind: 'artifact', name: 'big' })).toBeNull();
      await store().attach(file({ name: 'fits', sizeBytes: 40 }), 'u3', 100);
      await store().attach(file({ productId: 'other', jobId: 'job-9', sizeBytes: 500 }), 'u4', 0);
      expect(await store().productUsage('render')).toBe(100);
      expect(await store().productUsage('other')).toBe(500);
      expect(await store().productUsage('never')).toBe(0);
    });

    it('lets only one of two attaches racing for the last bytes of a quota in', async () => {
      await store().attach(file({ name: 'base', sizeBytes: 50 }), 'u0', 100);
      const results = await Promise.allSettled([store().attach(file({ name: 'x', sizeBytes: 30 }), 'u1', 100), store().attach(file({ name: 'y', sizeBytes: 30 }), 'u2', 100)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(ArtifactQuotaExceeded);
      expect(await store().productUsage('render')).toBe(80);
    });

    it('attaches the same file twice at once as one row, counted once; of two contents racing for a key one wins', async () => {
      const same = await Promise.all([store().attach(file(), 'u1', 0), store().attach(file(), 'u2', 0)]);
      expect(same).toStrictEqual([file(), file()]);
      expect(await store().productUsage('render')).toBe(100);
      const racing = await Promise.allSettled([store().attach(file({ name: 'k', sha256: digest('b') }), 'u3', 0), store().attach(file({ name: 'k', sha256: digest('c') }), 'u4', 0)]);
      expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((racing.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(ArtifactExists);
      expect(await store().productUsage('render')).toBe(200);
    });

    it('lists a product files oldest first for retention, and deletes them, naming the digests no row keeps', async () => {
      await store().attach(file({ name: 'new', createdAt: T0 + 20 }), 'u1', 0);
      await store().attach(file({ name: 'old', createdAt: T0 + 10, sha256: digest('b') }), 'u2', 0);
      await store().attach(file({ name: 'shared', createdAt: T0 + 15, sha256: digest('b') }), 'u3', 0);
      await store().attach(file({ productId: 'other', jobId: 'job-9', createdAt: T0 }), 'u4', 0);
      expect(await store().listProducts()).toEqual(['other', 'render']);
      expect((await store().listCreatedBefore('render', T0 + 20, 10)).map((a) => a.name)).toEqual(['old', 'shared']);
      expect((await store().listCreatedBefore('render', T0 + 100, 1)).map((a) => a.name)).toEqual(['old']);
      expect(await store().deleteArtifacts([file({ name: 'old', sha256: digest('b') })])).toEqual([]);
      expect(await store().isReferenced(digest('b'))).toBe(true);
      expect(await store().deleteArtifacts([file({ name: 'shared', sha256: digest('b') }), file({ name: 'new' })])).toEqual([digest('b')]);
      expect(await store().isReferenced(digest('b'))).toBe(false);
      expect(await store().isReferenced(digest('a'))).toBe(true); // product "other" still names it
      expect(await store().productUsage('render')).toBe(0);
      expect(await store().listProducts()).toEqual(['other']);
      expect(await store().deleteArtifacts([file({ name: 'gone' })])).toEqual([]);
    });
  });
}

/**
 * The GIGAFACTORY_BLOB_* settings and the store each mode opens: files under the data dir with
 * SQLite, Azure Blob Storage (azurite here) with Cosmos, by connection string or endpoint and key;
 * bad combinations refused naming the setting.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobStoreConfig, resolveServeConfig, SECRET_KEYS } from '../../src/config.js';
import { accountName } from '../../src/store/blobs/azure-blob-store.js';
import { openBlobStore } from '../../src/store/blobs/open-blob-store.js';
import { AZURITE_KEY, startAzurite, type Azurite } from '../support/azurite.js';

const COSMOS = { GIGAFACTORY_STORE: 'cosmos', GIGAFACTORY_COSMOS_ENDPOINT: 'https://acct.documents.azure.com:443/', GIGAFACTORY_COSMOS_KEY: 'k' };

describe('blob settings', () => {
  it('keeps blobs under <dataDir>/artifacts with SQLite', () => {
    expect(blobStoreConfig(resolveServeConfig({ dataDir: '/var/lib/gf' }, {}))).toEqual({ kind: 'fs', root: join('/var/lib/gf', 'artifacts') });
  });

  it('takes a connection string, or an endpoint with a key, with Cosmos', () => {
    const byString = resolveServeConfig({}, { ...COSMOS, GIGAFACTORY_BLOB_CONNECTION_STRING: 'AccountName=a;AccountKey=b' });
    expect(blobStoreConfig(byString)).toEqual({ kind: 'azure', connection: { connectionString: 'AccountName=a;AccountKey=b' }, container: 'gigafactory-artifacts' });
    const byKey = resolveServeConfig({ blobContainer: 'jobs-out' }, { ...COSMOS, GIGAFACTORY_BLOB_ENDPOINT: 'https://acct.blob.core.windows.net', GIGAFACTORY_BLOB_KEY: 'c2VjcmV0' });
    expect(blobStoreConfig(byKey)).toEqual({ kind: 'azure', connection: { endpoint: 'https://acct.blob.core.windows.net', accountKey: 'c2VjcmV0' }, container: 'jobs-out' });
    expect(SECRET_KEYS.has('blobConnectionString') && SECRET_KEYS.has('blobKey')).toBe(true);
  });

  it('refuses bad combinations and names, naming the setting and its source', () => {
    expect(() => resolveServeConfig({}, { GIGAFACTORY_BLOB_KEY: 'k' })).toThrow(/blobKey \(environment variable GIGAFACTORY_BLOB_KEY\): applies to store cosmos only/);
    expect(() => resolveServeConfig({}, { ...COSMOS, GIGAFACTORY_BLOB_ENDPOINT: 'https://acct.blob.core.windows.net' })).toThrow(/blobKey \(default\): blobEndpoint and blobKey go together/);
    expect(() => resolveServeConfig({}, { ...COSMOS, GIGAFACTORY_BLOB_CONNECTION_STRING: 'x', GIGAFACTORY_BLOB_KEY: 'k', GIGAFACTORY_BLOB_ENDPOINT: 'https://a.blob.core.windows.net' })).toThrow(
      /blobConnectionString .*either blobConnectionString or blobEndpoint with blobKey, not both/,
    );
    expect(() => resolveServeConfig({ blobContainer: 'Has_Upper' }, COSMOS)).toThrow(/blobContainer \(flag --blob-container\): must be 3-63 lowercase/);
    expect(() => resolveServeConfig({}, { ...COSMOS, GIGAFACTORY_BLOB_ENDPOINT: 'ftp://x', GIGAFACTORY_BLOB_KEY: 'k' })).toThrow(/blobEndpoint .*http or https/);
    expect(blobStoreConfig(resolveServeConfig({}, COSMOS))).toBeNull(); // artifacts are off
  });

  it('finds the account in a host-style or a path-style endpoint', () => {
    expect(accountName('https://myacct.blob.core.windows.net')).toBe('myacct');
    expect(accountName('http://127.0.0.1:10000/devstoreaccount1')).toBe('devstoreaccount1');
    expect(() => accountName('https://127.0.0.1:10000')).toThrow(/does not name a storage account/);
  });
});

describe('openBlobStore', () => {
  let azurite: Azurite;
  let dataDir: string;
  beforeAll(async () => {
    azurite = await startAzurite();
    dataDir = await mkdtemp(join(tmpdir(), 'gf-blob-config-'));
  });
  afterAll(async () => {
    await azurite?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const bytes = Buffer.from('an artifact');
  const digest = createHash('sha256').update(bytes).digest('hex');

  it('opens the filesystem store under the data dir for SQLite', async () => {
    const store = await openBlobStore(blobStoreConfig(resolveServeConfig({ dataDir }, {}))!);
    expect(store.kind).toBe('fs');
    await store.appendChunk('a', 0, bytes);
    await store.commitUpload('a', { size: bytes.length, sha256: digest });
    expect((await stat(join(dataDir, 'artifacts', 'blobs', 'sha256', digest.slice(0, 2), digest.slice(2)))).size).toBe(bytes.length);
  });

  it('opens Azure Blob Storage by endpoint and key for Cosmos, creating the container', async () => {
    const config = resolveServeConfig({ blobContainer: azurite.freshContainer() }, { ...COSMOS, GIGAFACTORY_BLOB_ENDPOINT: azurite.endpoint, GIGAFACTORY_BLOB_KEY: AZURITE_KEY });
    const store = await openBlobStore(blobStoreConfig(config)!);
    expect(store.kind).toBe('azure');
    await store.appendChunk('a', 0, bytes);
    expect(await store.commitUpload('a', { size: bytes.length, sha256: digest })).toMatchObject({ sha256: digest, deduplicated: false });
    expect(await store.has(digest)).toBe(true);
  });
});

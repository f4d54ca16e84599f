/**
 * Artifact bytes (issue 19): one blob of `megabytes` MiB of random bytes uploaded in `chunkKiB`
 * chunks through each BlobStore — the filesystem store in a temp dir and the Azure Blob store on
 * azurite (the emulator, on this machine: its figure is our code path plus the emulator's, not
 * Azure's) — then committed and read back, beside raw `cp` of the same file on the same disk,
 * with and without fsync. Each step is timed apart, since commit costs differ (the fs store renames;
 * Azure reads the blob back to hash it and copies it server side).
 *
 * Made to grow: a later part adds the transport's upload MB/s and heartbeat p99 during an upload
 * as more entries of `ArtifactsResult` and more rows in artifactsRows.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureBlobStore } from '../src/store/blobs/azure-blob-store.js';
import type { BlobStore } from '../src/store/blobs/blob-store.js';
import { FsBlobStore } from '../src/store/blobs/fs-blob-store.js';
import { startAzurite } from '../test/support/azurite.js';
import { fmt, progress, progressDone, type Row } from './stats.js';

export interface ArtifactsOptions {
  megabytes: number;
  chunkKiB: number;
}

/** One store's upload of the blob: seconds per step. */
export interface StoreUpload {
  store: 'fs' | 'azure (azurite)';
  appendS: number;
  commitS: number;
  readS: number;
}

export interface ArtifactsResult {
  megabytes: number;
  chunkKiB: number;
  /** Where the files went (the fs store and cp share it). */
  dir: string;
  cpS: number;
  cpFsyncS: number;
  uploads: StoreUpload[];
}

export async function runArtifactsBench(o: ArtifactsOptions): Promise<ArtifactsResult> {
  const dir = await mkdtemp(join(tmpdir(), 'gf-bench-artifacts-'));
  const bytes = randomBytes(o.megabytes * 2 ** 20);
  const digest = createHash('sha256').update(bytes).digest('hex');
  try {
    progress(`[artifacts] cp of ${o.megabytes} MiB`);
    const source = join(dir, 'source');
    await writeFile(source, bytes);
    execFileSync('sync', [source]);
    const cpS = timed(() => execFileSync('cp', [source, join(dir, 'cp-copy')]));
    // coreutils `sync FILE` fsyncs just that file: cp, then make the copy durable as the stores do.
    const cpFsyncS = timed(() => {
      execFileSync('cp', [source, join(dir, 'cp-durable')]);
      execFileSync('sync', [join(dir, 'cp-durable')]);
    });
    const uploads: StoreUpload[] = [];
    progress(`[artifacts] fs store: ${o.megabytes} MiB in ${o.chunkKiB} KiB chunks`);
    uploads.push(await uploadThrough('fs', await FsBlobStore.open(join(dir, 'store')), bytes, digest, o.chunkKiB));
    const azurite = await startAzurite();
    try {
      progress(`[artifacts] Azure Blob store on azurite: ${o.megabytes} MiB in ${o.chunkKiB} KiB chunks`);
      uploads.push(await uploadThrough('azure (azurite)', await AzureBlobStore.open({ connectionString: azurite.connectionString }, 'bench'), bytes, digest, o.chunkKiB));
    } finally {
      await azurite.stop();
    }
    progressDone();
    return { megabytes: o.megabytes, chunkKiB: o.chunkKiB, dir: tmpdir(), cpS, cpFsyncS, uploads };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function uploadThrough(name: StoreUpload['store'], store: BlobStore, bytes: Buffer, digest: string, chunkKiB: number): Promise<StoreUpload> {
  const chunk = chunkKiB * 1024;
  let at = performance.now();
  for (let offset = 0; offset < bytes.length; offset += chunk) await store.appendChunk('bench', offset, bytes.subarray(offset, offset + chunk));
  const appendS = (performance.now() - at) / 1000;
  at = performance.now();
  await store.commitUpload('bench', { size: bytes.length, sha256: digest });
  const commitS = (performance.now() - at) / 1000;
  at = performance.now();
  for await (const piece of await store.read(digest)) void piece;
  const readS = (performance.now() - at) / 1000;
  await store.close();
  return { store: name, appendS, commitS, readS };
}

function timed(work: () => void): number {
  const at = performance.now();
  work();
  return (performance.now() - at) / 1000;
}

export function artifactsRows(r: ArtifactsResult | null): Row[] {
  if (!r) return [];
  const mbps = (s: number): string => fmt(r.megabytes / s);
  return [
    { section: `Artifacts — one ${r.megabytes} MiB blob, ${r.chunkKiB} KiB chunks, on the disk under ${r.dir}` },
    ['cp (page cache, no fsync)', mbps(r.cpS), 'MiB/s', `raw cp of the same file on the same disk, ${fmt(r.cpS)} s`],
    ['cp + fsync', mbps(r.cpFsyncS), 'MiB/s', `cp, then coreutils sync of the copy: durable, as a store's upload is; ${fmt(r.cpFsyncS)} s`],
    ...r.uploads.flatMap((u): Row[] => [
      [`${u.store}: upload and commit`, mbps(u.appendS + u.commitS), 'MiB/s', `appends ${fmt(u.appendS)} s (${mbps(u.appendS)} MiB/s, each chunk durable before the next) + commit ${fmt(u.commitS)} s`],
      [`${u.store}: read back`, mbps(u.readS), 'MiB/s', `the whole blob as a stream, ${fmt(u.readS)} s`],
    ]),
  ];
}

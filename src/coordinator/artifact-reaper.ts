/**
 * The artifact reaper: deletes what retention expired and the bytes nothing names any more.
 * - Per product with a max age: artifact rows older than it, then their blobs once no row names them.
 * - Uploads never finished within the abandon age: their rows and their partial bytes.
 * - Blobs no row names (an upload filed but never attached: a quota refusal, a crash between the
 *   two steps), once older than the grace, so a commit racing its attach is never deleted.
 * Every step is idempotent: replicas may run it at once, and a pass cut short is finished by the next.
 */
import type { ArtifactRetention } from '../domain/artifact.js';
import type { Logger } from '../logging.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { BlobStore } from '../store/blobs/blob-store.js';
import type { Clock } from './clock.js';

/** Rows deleted per store call. */
const BATCH = 200;

export interface ArtifactReaperSettings {
  /** An upload with no progress for this long is abandoned. */
  abandonUploadsAfterMs: number;
  /** A blob no artifact names is deleted once it is this old. */
  unreferencedGraceMs: number;
}

export const DEFAULT_ARTIFACT_REAPER_SETTINGS: ArtifactReaperSettings = { abandonUploadsAfterMs: 24 * 3_600_000, unreferencedGraceMs: 3_600_000 };

export interface ArtifactReaperDeps {
  store: ArtifactStore;
  blobs: BlobStore;
  retention: (productId: string) => ArtifactRetention | null;
  clock: Clock;
  log: Logger;
  settings?: ArtifactReaperSettings;
}

/** What one pass removed. */
export interface ReapedArtifacts {
  artifacts: number;
  uploads: number;
  blobs: number;
}

export class ArtifactReaper {
  private readonly settings: ArtifactReaperSettings;

  constructor(private readonly deps: ArtifactReaperDeps) {
    this.settings = deps.settings ?? DEFAULT_ARTIFACT_REAPER_SETTINGS;
  }

  async pass(): Promise<ReapedArtifacts> {
    const reaped: ReapedArtifacts = { artifacts: 0, uploads: 0, blobs: 0 };
    const now = this.deps.clock.now();
    for (const productId of await this.deps.store.listProducts()) {
      const maxAgeMs = this.deps.retention(productId)?.maxAgeMs ?? 0;
      if (maxAgeMs > 0) await this.#expire(productId, now - maxAgeMs, reaped);
    }
    await this.#abandonUploads(now - this.settings.abandonUploadsAfterMs, reaped);
    await this.#sweepBlobs(new Date(now - this.settings.unreferencedGraceMs), reaped);
    if (reaped.artifacts + reaped.uploads + reaped.blobs > 0) this.deps.log.info({ reaped }, 'artifact reaper pass');
    return reaped;
  }

  async #expire(productId: string, before: number, reaped: ReapedArtifacts): Promise<void> {
    for (;;) {
      const expired = await this.deps.store.listCreatedBefore(productId, before, BATCH);
      if (expired.length === 0) return;
      const unreferenced = await this.deps.store.deleteArtifacts(expired);
      reaped.artifacts += expired.length;
      // Only blobs filed before the cut-off: content uploaded again since is about to be attached.
      for (const sha256 of unreferenced) if (await this.deps.blobs.delete(sha256, { onlyIfCommittedBefore: new Date(before) })) reaped.blobs++;
      if (expired.length < BATCH) return;
    }
  }

  async #abandonUploads(before: number, reaped: ReapedArtifacts): Promise<void> {
    for (const upload of await this.deps.blobs.listIdleUploads(new Date(before))) {
      await this.deps.blobs.abandonUpload(upload.uploadId);
      await this.deps.store.deleteUpload(upload.uploadId);
      reaped.uploads++;
    }
    // Rows of uploads that never got a byte (the blob store does not know them).
    for (const upload of await this.deps.store.listUploadsBefore(before, BATCH)) {
      if ((await this.deps.blobs.uploadedBytes(upload.uploadId)) > 0) continue;
      await this.deps.store.deleteUpload(upload.uploadId);
      reaped.uploads++;
    }
  }

  async #sweepBlobs(committedBefore: Date, reaped: ReapedArtifacts): Promise<void> {
    for await (const blob of this.deps.blobs.listBlobs()) {
      if (blob.committedAt >= committedBefore || (await this.deps.store.isReferenced(blob.sha256))) continue;
      if (await this.deps.blobs.delete(blob.sha256, { onlyIfCommittedBefore: committedBefore })) reaped.blobs++;
    }
  }
}

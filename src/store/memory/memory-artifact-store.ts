/** Artifact metadata in memory (tests and the memory store mode). */
import type { ArtifactRecord, UploadRecord } from '../../domain/artifact.js';
import { ArtifactExists, ArtifactQuotaExceeded, artifactOrder, type ArtifactFilter, type ArtifactKey, type ArtifactStore } from '../artifact-store.js';

const keyOf = (a: Pick<ArtifactRecord, 'jobId' | 'epoch' | 'kind' | 'name'>): string => JSON.stringify([a.jobId, a.epoch, a.kind, a.name]);

export class MemoryArtifactStore implements ArtifactStore {
  readonly #uploads = new Map<string, UploadRecord>();
  readonly #artifacts = new Map<string, ArtifactRecord>();

  async putUpload(upload: UploadRecord): Promise<void> {
    if (!this.#uploads.has(upload.uploadId)) this.#uploads.set(upload.uploadId, { ...upload });
  }

  async getUpload(uploadId: string): Promise<UploadRecord | null> {
    const upload = this.#uploads.get(uploadId);
    return upload ? { ...upload } : null;
  }

  async deleteUpload(uploadId: string): Promise<void> {
    this.#uploads.delete(uploadId);
  }

  async listUploadsBefore(before: number, limit: number): Promise<UploadRecord[]> {
    return [...this.#uploads.values()].filter((u) => u.createdAt < before).slice(0, limit).map((u) => ({ ...u }));
  }

  async attach(artifact: ArtifactRecord, uploadId: string, quotaBytes: number): Promise<ArtifactRecord> {
    const existing = this.#artifacts.get(keyOf(artifact));
    if (existing) {
      if (existing.sha256 !== artifact.sha256 || existing.sizeBytes !== artifact.sizeBytes) throw new ArtifactExists(existing);
      this.#uploads.delete(uploadId);
      return { ...existing };
    }
    // Counted and written with no await between: two attaches racing for the last bytes cannot both fit.
    const used = this.#usage(artifact.productId);
    if (quotaBytes > 0 && used + artifact.sizeBytes > quotaBytes) throw new ArtifactQuotaExceeded(artifact.productId, used, quotaBytes);
    this.#artifacts.set(keyOf(artifact), { ...artifact });
    this.#uploads.delete(uploadId);
    return { ...artifact };
  }

  async getArtifact(key: ArtifactKey): Promise<ArtifactRecord | null> {
    if (key.epoch > 0) {
      const found = this.#artifacts.get(keyOf(key));
      return found ? { ...found } : null;
    }
    const all = await this.listArtifacts(key.jobId, { kind: key.kind });
    return all.filter((a) => a.name === key.name).at(-1) ?? null;
  }

  async listArtifacts(jobId: string, filter: ArtifactFilter): Promise<ArtifactRecord[]> {
    return [...this.#artifacts.values()]
      .filter((a) => a.jobId === jobId && (filter.epoch === undefined || a.epoch === filter.epoch) && (filter.kind === undefined || a.kind === filter.kind))
      .sort(artifactOrder)
      .map((a) => ({ ...a }));
  }

  async productUsage(productId: string): Promise<number> {
    return this.#usage(productId);
  }

  #usage(productId: string): number {
    let used = 0;
    for (const a of this.#artifacts.values()) if (a.productId === productId) used += a.sizeBytes;
    return used;
  }

  async listCreatedBefore(productId: string, before: number, limit: number): Promise<ArtifactRecord[]> {
    return [...this.#artifacts.values()]
      .filter((a) => a.productId === productId && a.createdAt < before)
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit)
      .map((a) => ({ ...a }));
  }

  async deleteArtifacts(artifacts: readonly ArtifactRecord[]): Promise<string[]> {
    for (const a of artifacts) this.#artifacts.delete(keyOf(a));
    const digests = new Set(artifacts.map((a) => a.sha256));
    const unreferenced: string[] = [];
    for (const sha256 of digests) if (!(await this.isReferenced(sha256))) unreferenced.push(sha256);
    return unreferenced;
  }

  async isReferenced(sha256: string): Promise<boolean> {
    for (const a of this.#artifacts.values()) if (a.sha256 === sha256) return true;
    return false;
  }

  async listProducts(): Promise<string[]> {
    return [...new Set([...this.#artifacts.values()].map((a) => a.productId))].sort();
  }

  async close(): Promise<void> {}
}

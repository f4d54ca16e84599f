/**
 * Artifact metadata in the coordinator's SQLite file (its own connection; WAL lets it share the
 * file). attach() checks the quota and inserts in one transaction, so two uploads racing for the
 * last bytes of a quota cannot both fit, and the row is durable (synchronous = FULL) before the
 * upload is acknowledged.
 */
import type Database from 'better-sqlite3';
import type { ArtifactKind, ArtifactRecord, UploadRecord } from '../../domain/artifact.js';
import { ArtifactExists, ArtifactQuotaExceeded, type ArtifactFilter, type ArtifactKey, type ArtifactStore } from '../artifact-store.js';
import { openConnection } from './connection.js';

interface ArtifactRow {
  job_id: string;
  epoch: number;
  kind: string;
  name: string;
  product_id: string;
  size_bytes: number;
  sha256: string;
  content_type: string;
  factory_id: string;
  created_at: number;
}

const COLUMNS = 'job_id, epoch, kind, name, product_id, size_bytes, sha256, content_type, factory_id, created_at';

function fromRow(row: ArtifactRow): ArtifactRecord {
  return {
    jobId: row.job_id,
    epoch: row.epoch,
    kind: row.kind as ArtifactKind,
    name: row.name,
    productId: row.product_id,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    contentType: row.content_type,
    factoryId: row.factory_id,
    createdAt: row.created_at,
  };
}

export class SqliteArtifactStore implements ArtifactStore {
  readonly #db: Database.Database;
  readonly #attach: Database.Transaction<(artifact: ArtifactRecord, uploadId: string, quotaBytes: number) => ArtifactRecord>;
  readonly #deleteRows: Database.Transaction<(artifacts: readonly ArtifactRecord[]) => string[]>;
  readonly #referenced: Database.Statement<[string], { one: number }>;
  readonly #usage: Database.Statement<[string], { used: number }>;
  readonly #getOne: Database.Statement<[string, number, string, string], ArtifactRow>;

  constructor(path: string) {
    this.#db = openConnection(path);
    const getOne = this.#db.prepare<[string, number, string, string], ArtifactRow>(`SELECT ${COLUMNS} FROM artifacts WHERE job_id = ? AND epoch = ? AND kind = ? AND name = ?`);
    const usage = this.#db.prepare<[string], { used: number }>('SELECT COALESCE(SUM(size_bytes), 0) AS used FROM artifacts WHERE product_id = ?');
    const insert = this.#db.prepare(
      `INSERT INTO artifacts (${COLUMNS}) VALUES (@jobId, @epoch, @kind, @name, @productId, @sizeBytes, @sha256, @contentType, @factoryId, @createdAt)`,
    );
    const dropUpload = this.#db.prepare<[string]>('DELETE FROM artifact_uploads WHERE upload_id = ?');
    const deleteOne = this.#db.prepare<[string, number, string, string]>('DELETE FROM artifacts WHERE job_id = ? AND epoch = ? AND kind = ? AND name = ?');
    const referenced = this.#db.prepare<[string], { one: number }>('SELECT 1 AS one FROM artifacts WHERE sha256 = ? LIMIT 1');
    this.#attach = this.#db.transaction((artifact: ArtifactRecord, uploadId: string, quotaBytes: number): ArtifactRecord => {
        const row = getOne.get(artifact.jobId, artifact.epoch, artifact.kind, artifact.name);
        if (row) {
          const existing = fromRow(row);
          if (existing.sha256 !== artifact.sha256 || existing.sizeBytes !== artifact.sizeBytes) throw new ArtifactExists(existing);
          dropUpload.run(uploadId);
          return existing;
        }
        const used = usage.get(artifact.productId)?.used ?? 0;
        if (quotaBytes > 0 && used + artifact.sizeBytes > quotaBytes) throw new ArtifactQuotaExceeded(artifact.productId, used, quotaBytes);
        insert.run(artifact);
        dropUpload.run(uploadId);
        return artifact;
      });
    this.#deleteRows = this.#db.transaction((artifacts: readonly ArtifactRecord[]): string[] => {
      for (const a of artifacts) deleteOne.run(a.jobId, a.epoch, a.kind, a.name);
      return [...new Set(artifacts.map((a) => a.sha256))].filter((sha256) => !referenced.get(sha256));
    });
    this.#referenced = referenced;
    this.#usage = usage;
    this.#getOne = getOne;
  }

  async putUpload(upload: UploadRecord): Promise<void> {
    this.#db.prepare('INSERT OR IGNORE INTO artifact_uploads (upload_id, created_at, doc) VALUES (?, ?, ?)').run(upload.uploadId, upload.createdAt, JSON.stringify(upload));
  }

  async getUpload(uploadId: string): Promise<UploadRecord | null> {
    const row = this.#db.prepare<[string], { doc: string }>('SELECT doc FROM artifact_uploads WHERE upload_id = ?').get(uploadId);
    return row ? (JSON.parse(row.doc) as UploadRecord) : null;
  }

  async deleteUpload(uploadId: string): Promise<void> {
    this.#db.prepare('DELETE FROM artifact_uploads WHERE upload_id = ?').run(uploadId);
  }

  async listUploadsBefore(before: number, limit: number): Promise<UploadRecord[]> {
    const rows = this.#db.prepare<[number, number], { doc: string }>('SELECT doc FROM artifact_uploads WHERE created_at < ? ORDER BY created_at LIMIT ?').all(before, limit);
    return rows.map((row) => JSON.parse(row.doc) as UploadRecord);
  }

  async attach(artifact: ArtifactRecord, uploadId: string, quotaBytes: number): Promise<ArtifactRecord> {
    // IMMEDIATE: the quota read and the insert hold the write lock together (another connection may attach too).
    return this.#attach.immediate(artifact, uploadId, quotaBytes);
  }

  async getArtifact(key: ArtifactKey): Promise<ArtifactRecord | null> {
    if (key.epoch > 0) {
      const row = this.#getOne.get(key.jobId, key.epoch, key.kind, key.name);
      return row ? fromRow(row) : null;
    }
    const row = this.#db
      .prepare<[string, string, string], ArtifactRow>(`SELECT ${COLUMNS} FROM artifacts WHERE job_id = ? AND kind = ? AND name = ? ORDER BY epoch DESC LIMIT 1`)
      .get(key.jobId, key.kind, key.name);
    return row ? fromRow(row) : null;
  }

  async listArtifacts(jobId: string, filter: ArtifactFilter): Promise<ArtifactRecord[]> {
    const rows = this.#db
      .prepare<[string, number | null, number | null, string | null, string | null], ArtifactRow>(
        `SELECT ${COLUMNS} FROM artifacts WHERE job_id = ? AND (? IS NULL OR epoch = ?) AND (? IS NULL OR kind = ?) ORDER BY epoch, kind, name`,
      )
      .all(jobId, filter.epoch ?? null, filter.epoch ?? null, filter.kind ?? null, filter.kind ?? null);
    return rows.map(fromRow);
  }

  async productUsage(productId: string): Promise<number> {
    return this.#usage.get(productId)?.used ?? 0;
  }

  async listCreatedBefore(productId: string, before: number, limit: number): Promise<ArtifactRecord[]> {
    const rows = this.#db
      .prepare<[string, number, number], ArtifactRow>(`SELECT ${COLUMNS} FROM artifacts WHERE product_id = ? AND created_at < ? ORDER BY created_at LIMIT ?`)
      .all(productId, before, limit);
    return rows.map(fromRow);
  }

  async deleteArtifacts(artifacts: readonly ArtifactRecord[]): Promise<string[]> {
    return this.#deleteRows(artifacts);
  }

  async isReferenced(sha256: string): Promise<boolean> {
    return this.#referenced.get(sha256) !== undefined;
  }

  async listProducts(): Promise<string[]> {
    return this.#db.prepare<[], { product_id: string }>('SELECT DISTINCT product_id FROM artifacts ORDER BY product_id').all().map((row) => row.product_id);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

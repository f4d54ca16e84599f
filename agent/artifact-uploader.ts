/**
 * Uploads the files an attempt left in GIGAFACTORY_ARTIFACTS_DIR once it ends. Attempts to upload
 * are kept in a small outbox file in the work dir (written before anything is sent), so an agent
 * that restarts — even after kill -9 mid-file — picks them up again; StartUpload tells how many
 * bytes of each file the coordinator already holds, and the upload goes on from there.
 *
 * Only regular files are uploaded (a symbolic link could point at the agent's own token). A file
 * refused for good (the attempt's lease is gone, the product's quota is full, a bad name) is
 * logged and skipped; a coordinator that cannot be reached is retried with back-off until it can,
 * or the agent stops.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ArtifactKind } from '../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import type { Logger } from '../src/logging.js';
import { ReconnectPolicy } from './reconnect.js';
import type { ArtifactClient } from './artifact-client.js';
import { walkDir } from './dir-walk.js';
import { writeAtomically } from './pending-results.js';

export const ARTIFACT_OUTBOX_FILE = 'artifact-outbox.json';
/** Chunk size of an upload: the most the coordinator takes in one message. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;
/** Files uploaded per attempt at most; the rest are logged as skipped. */
export const MAX_FILES_PER_ATTEMPT = 1_000;
/** Tries of one file whose bytes the coordinator refused at finish (the file changed while being read). */
const FILE_TRIES = 3;

/** One attempt whose files are to be uploaded. */
export interface OutboxEntry {
  jobId: string;
  epoch: string;
  dir: string;
}

export interface ArtifactUploaderOptions {
  workDir: string;
  factoryId: string;
  /** A client to the coordinator to use now (each try asks again: the agent may have moved to another). */
  client: () => ArtifactClient;
  log: Logger;
}

/** Codes after which the same request will not succeed: give the file up. */
const PERMANENT = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED, grpc.status.PERMISSION_DENIED, grpc.status.ALREADY_EXISTS, grpc.status.NOT_FOUND, grpc.status.UNIMPLEMENTED]);

class GiveUp extends Error {}

export class ArtifactUploader {
  private entries: OutboxEntry[] = [];
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly file: string;
  private readonly stopping = new AbortController();

  constructor(private readonly opts: ArtifactUploaderOptions) {
    this.file = path.join(opts.workDir, ARTIFACT_OUTBOX_FILE);
  }

  /** Loads the outbox a previous run left and resumes its uploads. */
  async open(): Promise<void> {
    try {
      this.entries = (JSON.parse(await readFile(this.file, 'utf8')) as { entries: OutboxEntry[] }).entries;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.opts.log.warn({ err, file: this.file }, 'artifact outbox unreadable; starting empty');
      this.entries = [];
    }
    for (const entry of this.entries) void this.run(entry);
  }

  /**
   * Records the attempt's files for upload and starts uploading them; resolves when every file is
   * uploaded or given up. An attempt whose directory holds nothing resolves at once.
   */
  async enqueue(jobId: string, epoch: bigint, dir: string): Promise<void> {
    if ((await listFiles(dir, this.opts.log)).length === 0) return;
    const entry = { jobId, epoch: String(epoch), dir };
    if (!this.entries.some((e) => e.jobId === jobId && e.epoch === entry.epoch)) {
      this.entries.push(entry);
      await this.save();
    }
    return this.run(entry);
  }

  stop(): void {
    this.stopping.abort();
  }

  private run(entry: OutboxEntry): Promise<void> {
    const key = `${entry.jobId}@${entry.epoch}`;
    let running = this.inFlight.get(key);
    if (!running) {
      running = this.uploadAttempt(entry)
        .catch((err: unknown) => this.opts.log.error({ err, jobId: entry.jobId, epoch: entry.epoch }, 'artifact upload failed; retried on the next agent start'))
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    return running;
  }

  private async uploadAttempt(entry: OutboxEntry): Promise<void> {
    const log = this.opts.log.child({ jobId: entry.jobId, epoch: entry.epoch });
    const files = await listFiles(entry.dir, log);
    let uploaded = 0;
    for (const name of files) {
      if (this.stopping.signal.aborted) return; // stays in the outbox for the next run
      try {
        await this.uploadFile(entry, name, log);
        uploaded++;
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        if (err instanceof GiveUp) {
          log.warn({ name, reason: err.message }, 'artifact not uploaded');
          if (/lease|epoch|did not run/.test(err.message)) break; // the attempt is not ours any more: nothing else will go either
          continue;
        }
        throw err;
      }
    }
    log.info({ uploaded, files: files.length }, 'artifacts uploaded');
    this.entries = this.entries.filter((e) => !(e.jobId === entry.jobId && e.epoch === entry.epoch));
    await this.save();
  }

  /** One file, with retries: network errors until the agent stops, a refused finish FILE_TRIES times. */
  private async uploadFile(entry: OutboxEntry, name: string, log: Logger): Promise<void> {
    const backoff = new ReconnectPolicy();
    let refusedFinishes = 0;
    for (;;) {
      try {
        return await this.tryUpload(entry, name);
      } catch (err) {
        const code = (err as grpc.ServiceError).code;
        const details = (err as grpc.ServiceError).details ?? (err as Error).message;
        if (code !== undefined && PERMANENT.has(code)) throw new GiveUp(`${grpc.status[code]}: ${details}`);
        if (code === grpc.status.FAILED_PRECONDITION) {
          // The fence (the lease is gone) is final; an offset or digest mismatch is worth another try.
          if (/lease|stale|did not run|no attempt/.test(details) || ++refusedFinishes >= FILE_TRIES) throw new GiveUp(`FAILED_PRECONDITION: ${details}`);
        }
        if (code === undefined && (err as NodeJS.ErrnoException).code) throw new GiveUp(`cannot read the file: ${(err as Error).message}`);
        log.info({ name, err: details }, 'artifact upload interrupted; retrying');
        await backoff.backoff({ signal: this.stopping.signal });
      }
    }
  }

  private async tryUpload(entry: OutboxEntry, name: string): Promise<void> {
    const file = path.join(entry.dir, ...name.split('/'));
    const { size, sha256 } = await digestOf(file);
    const client = this.opts.client();
    const started = await client.startUpload({
      factoryId: this.opts.factoryId,
      jobId: entry.jobId,
      epoch: BigInt(entry.epoch),
      kind: ArtifactKind.ARTIFACT,
      name,
      sizeBytes: BigInt(size),
      sha256,
      contentType: contentTypeOf(name),
    });
    if (started.artifact) return; // attached before (a restart after the finish)
    const from = Number(started.committedBytes);
    this.opts.log.info({ jobId: entry.jobId, epoch: entry.epoch, name, size, from }, from > 0 ? 'resuming artifact upload' : 'uploading artifact');
    if (from < size) await client.uploadChunks(chunksOf(file, started.uploadId, from), this.stopping.signal);
    await client.finishUpload(started.uploadId);
  }

  private save(): Promise<void> {
    return writeAtomically(this.file, `${JSON.stringify({ entries: this.entries }, null, 2)}\n`);
  }
}

/** The regular files under `dir`, as "/"-separated relative names, sorted; at most MAX_FILES_PER_ATTEMPT. */
export async function listFiles(dir: string, log: Logger): Promise<string[]> {
  const names: string[] = [];
  for await (const { name, entry } of walkDir(dir)) {
    if (entry.isFile()) names.push(name);
    else if (!entry.isDirectory()) log.warn({ name }, 'not a regular file (a link, a socket): not uploaded');
  }
  names.sort();
  if (names.length > MAX_FILES_PER_ATTEMPT) log.warn({ files: names.length, limit: MAX_FILES_PER_ATTEMPT }, 'too many artifact files: the rest are not uploaded');
  return names.slice(0, MAX_FILES_PER_ATTEMPT);
}

async function digestOf(file: string): Promise<{ size: number; sha256: string }> {
  const stat = await lstat(file);
  if (!stat.isFile()) throw Object.assign(new Error(`${file} is no longer a regular file`), { code: 'ENOTFILE' });
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

export async function* chunksOf(file: string, uploadId: string, from: number): AsyncGenerator<{ uploadId: string; offset: bigint; data: Uint8Array }> {
  let offset = from;
  for await (const chunk of createReadStream(file, { start: from, highWaterMark: UPLOAD_CHUNK_BYTES })) {
    const data = chunk as Buffer;
    yield { uploadId, offset: BigInt(offset), data };
    offset += data.length;
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.xml': 'application/xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
};

/** The media type by the name's extension; octet-stream when unknown. */
export function contentTypeOf(name: string): string {
  return CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream';
}

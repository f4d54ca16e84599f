/**
 * Checkpoints: a job saves its progress into GIGAFACTORY_CHECKPOINT_DIR; the agent uploads a
 * changed checkpoint on each heartbeat tick and once more when the attempt stops, and the next
 * attempt of the job (on any factory) starts with the latest one restored into that dir.
 *
 * The change check is cheap: the names, sizes and mtimes of the dir's files. Only when those
 * changed is the dir packed into one tar archive (checkpoint-archive.ts) and hashed; an archive
 * whose SHA-256 equals the last uploaded one is not sent again. Each upload is named
 * `checkpoint-<13-digit ms>.tar`: a name is attached once per attempt, and name order within an
 * attempt is upload order, so "the latest checkpoint" is the last name of the latest attempt.
 * Uploads run beside the factory stream (their own channel), so heartbeats never wait for them.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactKind } from '../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import type { Logger } from '../src/logging.js';
import * as grpc from '@grpc/grpc-js';
import { ArtifactFetchError, fetchArtifactToFile, type FetchChannel } from './artifact-fetch.js';
import { listCheckpointEntries, packCheckpoint, unpackCheckpoint, type CheckpointEntry } from './checkpoint-archive.js';

/** GIGAFACTORY_CHECKPOINT_DIR, inside the attempt's workspace. */
export const CHECKPOINT_DIR = '.gigafactory-checkpoint';
/** Where the archive is packed before an upload, beside the dir (never inside it). */
const PACKED_FILE = '.gigafactory-checkpoint.tar';
/** Where the latest checkpoint is fetched to before it is unpacked. */
const RESTORED_FILE = '.gigafactory-checkpoint-restore.tar';
export const CHECKPOINT_CONTENT_TYPE = 'application/x-tar';

export function checkpointDirOf(workspace: string): string {
  return path.join(workspace, CHECKPOINT_DIR);
}

/** A packed checkpoint ready to upload. */
export interface PackedCheckpoint {
  /** The archive on disk. */
  file: string;
  /** Its name in the attempt: checkpoint-<ms>.tar. */
  name: string;
  sizeBytes: number;
  sha256: string;
}

export interface CheckpointWatcherOptions {
  workspace: string;
  /** Sends the archive as a CHECKPOINT of the attempt; rejects when it could not. */
  upload: (checkpoint: PackedCheckpoint) => Promise<void>;
  log: Logger;
  /** Milliseconds since the epoch, for the archive's name. */
  now?: () => number;
}

/** The name an archive packed at `ms` is uploaded under. */
export function checkpointName(ms: number): string {
  return `checkpoint-${String(Math.floor(ms)).padStart(13, '0')}.tar`;
}

/** What the last upload (or restore) held: its listing and its digest. */
interface Saved {
  fingerprint: string;
  sha256: string;
}

export class CheckpointWatcher {
  private saved: Saved = { fingerprint: '', sha256: '' };
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly opts: CheckpointWatcherOptions) {}

  get dir(): string {
    return checkpointDirOf(this.opts.workspace);
  }

  /** What was restored into the dir counts as saved: it is not uploaded again unless it changes. */
  async markRestored(sha256: string): Promise<void> {
    this.saved = { fingerprint: fingerprintOf(await listCheckpointEntries(this.dir)), sha256 };
  }

  /**
   * A heartbeat tick: starts a check unless one is still running (a slow upload is not queued
   * twice). The promise settles when that check ends; the agent does not wait for it.
   */
  tick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.running ??= this.check().finally(() => (this.running = null));
    return this.running;
  }

  /**
   * The attempt is stopping: waits for a running check, then checks once more, so what the job
   * wrote in its grace period is uploaded before the attempt's end is reported. No more ticks after.
   */
  async final(): Promise<void> {
    this.closed = true;
    await this.running;
    await this.check();
    await rm(path.join(this.opts.workspace, PACKED_FILE), { force: true });
  }

  /** Uploads the dir if it changed since the last upload; never rejects (a failure is retried next tick). */
  private async check(): Promise<void> {
    try {
      const entries = await listCheckpointEntries(this.dir);
      const fingerprint = fingerprintOf(entries);
      if (fingerprint === this.saved.fingerprint || !entries.some((e) => e.type === 'file')) return;
      const file = path.join(this.opts.workspace, PACKED_FILE);
      await packCheckpoint(this.dir, entries, file);
      const { sha256, sizeBytes } = await digestOf(file);
      if (sha256 !== this.saved.sha256) {
        const name = checkpointName((this.opts.now ?? Date.now)());
        await this.opts.upload({ file, name, sizeBytes, sha256 });
        this.opts.log.info({ name, sizeBytes }, 'checkpoint uploaded');
      }
      this.saved = { fingerprint, sha256 };
    } catch (err) {
      this.opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'checkpoint not uploaded; trying again at the next heartbeat');
    }
  }
}

/** Names, sizes and mtimes: changes when the job writes, without reading a byte. */
function fingerprintOf(entries: readonly CheckpointEntry[]): string {
  return entries.map((e) => `${e.name}\u0000${e.type}\u0000${e.size}\u0000${e.mtimeMs}`).join('\n');
}

export async function digestOf(file: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), sizeBytes: (await stat(file)).size };
}

/** The attempt a checkpoint is restored for. */
export interface RestoreTarget {
  factoryId: string;
  jobId: string;
  epoch: bigint;
  workspace: string;
}

/**
 * Fetches the job's latest checkpoint (from any earlier attempt) and unpacks it into the
 * checkpoint dir. Returns what was restored, or null when the job has none. A checkpoint that
 * exists but cannot be fetched or unpacked rejects: the attempt fails rather than silently
 * starting over from nothing.
 */
export async function restoreLatestCheckpoint(channel: FetchChannel, target: RestoreTarget, signal?: AbortSignal): Promise<{ name: string; sha256: string; files: number } | null> {
  const archive = path.join(target.workspace, RESTORED_FILE);
  try {
    const artifact = await fetchArtifactToFile(
      channel,
      { factoryId: target.factoryId, jobId: target.jobId, epoch: target.epoch, sourceJobId: target.jobId, sourceEpoch: 0n, kind: ArtifactKind.CHECKPOINT, name: '' },
      archive,
      signal,
    );
    const files = await unpackCheckpoint(archive, checkpointDirOf(target.workspace));
    return { name: `${artifact.name} (epoch ${artifact.epoch})`, sha256: artifact.sha256, files };
  } catch (err) {
    // None saved yet; or a coordinator older than checkpoints, which cannot have one either.
    if (err instanceof ArtifactFetchError && (err.notFound || err.code === grpc.status.UNIMPLEMENTED)) return null;
    throw new Error(`the latest checkpoint could not be restored: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await rm(archive, { force: true });
  }
}

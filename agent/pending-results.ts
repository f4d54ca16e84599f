/**
 * Job results the coordinator has not acknowledged. A result is the one message whose loss costs a
 * whole attempt (the lease would expire and the job run again), so it is kept from before its first
 * send until result_ack (recorded) or lease_revoked (never will be), and sent again on every new
 * stream, and on a live one when its ack is overdue (see `sentBefore`). With a file, it also
 * survives an agent restart.
 */
import { create, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { JobResultSchema, type JobResult } from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AttemptOutcome } from '../gen/ts/gigafactory/fleet/v1/job_pb.js';
import type { AttemptReport } from '../src/domain/lifecycle.js';

const WIRE_OUTCOME: { readonly [K in AttemptReport['outcome']]: AttemptOutcome } = {
  succeeded: AttemptOutcome.SUCCEEDED,
  failed: AttemptOutcome.FAILED,
  timed_out: AttemptOutcome.TIMED_OUT,
  cancelled: AttemptOutcome.CANCELLED,
};

/** The JobResult for an attempt; `logChunkCount` comes from `LogBatcher.flush()`. */
export function jobResult(jobId: string, epoch: bigint, report: AttemptReport, logChunkCount: number): JobResult {
  return create(JobResultSchema, {
    jobId,
    epoch,
    outcome: WIRE_OUTCOME[report.outcome],
    ...(report.exitCode !== null ? { exitCode: report.exitCode } : {}),
    message: report.message,
    logChunkCount: BigInt(logChunkCount),
    cost: report.cost ?? 0,
  });
}

/** The file name under the agent's work directory. */
export const PENDING_RESULTS_FILE = 'pending-results.json';

interface FileFormat {
  version: 1;
  results: JsonValue[];
}

export class PendingResults {
  /** Keyed by job and epoch; a Map keeps insertion order, so results are resent oldest first. */
  private readonly results = new Map<string, JobResult>();
  /** When each result was last written to a stream (this run only: a restart resends them all anyway). */
  private readonly sentAt = new Map<string, number>();
  /** Writes run one after another, so the file always ends up with the latest snapshot. */
  private writes: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string | null) {}

  /** In memory only: results survive reconnects but not a restart. */
  static inMemory(): PendingResults {
    return new PendingResults(null);
  }

  /**
   * Backed by `file` (normally `<workDir>/pending-results.json`), loading what an earlier run left.
   * A missing file is an empty set; an unreadable one is an error, because silently dropping it
   * would lose results.
   */
  static async open(file: string): Promise<PendingResults> {
    const pending = new PendingResults(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return pending;
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as FileFormat;
      if (parsed.version !== 1 || !Array.isArray(parsed.results)) throw new Error('not a version 1 pending-results file');
      for (const json of parsed.results) pending.remember(fromJson(JobResultSchema, json));
    } catch (err) {
      throw new Error(`cannot read pending results from ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return pending;
  }

  /** Keeps a result; call before its first send, so a crash right after the send cannot lose it. */
  add(result: JobResult): Promise<void> {
    this.remember(result);
    return this.persist();
  }

  /**
   * Forgets the result for this job and epoch, on result_ack or lease_revoked. Resolves whether
   * there was one; a result of another epoch of the same job stays.
   */
  async drop(jobId: string, epoch: bigint): Promise<boolean> {
    this.sentAt.delete(key(jobId, epoch));
    if (!this.results.delete(key(jobId, epoch))) return false;
    await this.persist();
    return true;
  }

  /** The results to send on a new stream, oldest first. */
  list(): JobResult[] {
    return [...this.results.values()];
  }

  /** Notes that `result` was just written to a stream, at `at` (ms). */
  markSent(result: JobResult, at: number): void {
    const k = key(result.jobId, result.epoch);
    if (this.results.has(k)) this.sentAt.set(k, at);
  }

  /**
   * Results still unacknowledged that were last sent before `before` (or not sent yet), oldest
   * first: on a stream that is otherwise answered, their result (or its ack) was lost.
   */
  sentBefore(before: number): JobResult[] {
    return [...this.results].filter(([k]) => (this.sentAt.get(k) ?? -Infinity) < before).map(([, result]) => result);
  }

  get size(): number {
    return this.results.size;
  }

  private remember(result: JobResult): void {
    this.results.set(key(result.jobId, result.epoch), result);
  }

  private persist(): Promise<void> {
    const file = this.file;
    if (file === null) return Promise.resolve();
    const body: FileFormat = { version: 1, results: this.list().map((r) => toJson(JobResultSchema, r)) };
    const text = `${JSON.stringify(body, null, 2)}\n`;
    const write = this.writes.then(() => writeAtomically(file, text));
    // A failed write is reported to its caller; the next write must still run.
    this.writes = write.catch(() => {});
    return write;
  }
}

function key(jobId: string, epoch: bigint): string {
  return `${jobId}\u0000${epoch}`;
}

/**
 * Temp file, fsync, rename: a reader (the next agent run) sees the old file or the new one, never
 * half of one, even if the machine loses power mid-write.
 */
export async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  try {
    const handle = await open(temp, 'w', 0o600); // results name jobs and their messages: the agent's user only
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

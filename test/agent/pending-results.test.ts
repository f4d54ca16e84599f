import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttemptOutcome } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { PENDING_RESULTS_FILE, PendingResults, jobResult } from '../../agent/pending-results.js';
import { tempWorkDir } from './helpers.js';

const succeeded = (jobId: string, epoch: bigint) =>
  jobResult(jobId, epoch, { outcome: 'succeeded', exitCode: 0, message: 'exited with code 0' }, 12);

describe('jobResult', () => {
  it('maps the domain outcome to the wire and leaves exit_code unset when there is none', () => {
    const timedOut = jobResult('j', 3n, { outcome: 'timed_out', exitCode: null, message: 'timed out' }, 4);
    expect(timedOut.outcome).toBe(AttemptOutcome.TIMED_OUT);
    expect(timedOut.exitCode).toBeUndefined();
    expect(timedOut.logChunkCount).toBe(4n);
    expect(succeeded('j', 1n).exitCode).toBe(0);
    expect(jobResult('j', 1n, { outcome: 'cancelled', exitCode: 143, message: '' }, 0).outcome).toBe(AttemptOutcome.CANCELLED);
  });
});

describe('pending results', () => {
  it('are overdue once last sent before the cut-off, until acknowledged', async () => {
    const pending = PendingResults.inMemory();
    await pending.add(succeeded('a', 1n));
    await pending.add(succeeded('b', 2n));
    expect(pending.sentBefore(0).map((r) => r.jobId)).toEqual(['a', 'b']); // never sent: overdue at once
    pending.markSent(succeeded('a', 1n), 1_000);
    pending.markSent(succeeded('b', 2n), 2_000);
    expect(pending.sentBefore(1_000)).toEqual([]);
    expect(pending.sentBefore(1_001).map((r) => r.jobId)).toEqual(['a']);
    pending.markSent(succeeded('a', 1n), 3_000); // sent again: not overdue until the next cut-off passes it
    expect(pending.sentBefore(2_500).map((r) => r.jobId)).toEqual(['b']);
    await pending.drop('b', 2n);
    pending.markSent(succeeded('b', 2n), 0); // an acknowledged result is not tracked again
    expect(pending.sentBefore(10_000).map((r) => r.jobId)).toEqual(['a']);
  });

  it('are sent again on a new stream until acknowledged, and dropped when the lease is revoked', async () => {
    const pending = PendingResults.inMemory();
    const stream1: string[] = [];
    const sendAll = (to: string[]) => pending.list().forEach((r) => to.push(`${r.jobId}@${r.epoch}`));

    // Two results go out on a stream that breaks before either is acknowledged.
    await pending.add(succeeded('a', 1n));
    await pending.add(succeeded('b', 5n));
    sendAll(stream1);

    // Reconnected: both are sent again, oldest first.
    const stream2: string[] = [];
    sendAll(stream2);
    expect(stream2).toEqual(['a@1', 'b@5']);
    expect(stream2).toEqual(stream1);

    // result_ack for a; lease_revoked for b at another epoch changes nothing; at its epoch drops it.
    expect(await pending.drop('a', 1n)).toBe(true);
    expect(await pending.drop('b', 4n)).toBe(false);
    expect(pending.list().map((r) => r.jobId)).toEqual(['b']);
    expect(await pending.drop('b', 5n)).toBe(true);

    const stream3: string[] = [];
    sendAll(stream3);
    expect(stream3).toEqual([]);
  });

  describe('in a file', () => {
    let workDir: string;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ dir: workDir, cleanup } = await tempWorkDir()));
    afterEach(() => cleanup());

    it('survive the agent reopening the file, with every field intact', async () => {
      const file = path.join(workDir, PENDING_RESULTS_FILE);
      const first = await PendingResults.open(file);
      expect(first.size).toBe(0);
      const failed = jobResult('job-2', 9_007_199_254_740_993n, { outcome: 'failed', exitCode: 3, message: 'exited with code 3' }, 2);
      await first.add(succeeded('job-1', 1n));
      await first.add(failed);
      await first.add(succeeded('job-3', 2n));
      await first.drop('job-3', 2n);

      const reopened = await PendingResults.open(file);
      expect(reopened.list()).toEqual([succeeded('job-1', 1n), failed]);
      // Only the file itself: the temp file was renamed over it.
      expect(await readdir(workDir)).toEqual([PENDING_RESULTS_FILE]);
    });

    it('end up with the latest state when writes overlap', async () => {
      const file = path.join(workDir, 'nested', PENDING_RESULTS_FILE);
      const pending = await PendingResults.open(file);
      await Promise.all(Array.from({ length: 20 }, (_, i) => pending.add(succeeded(`job-${i}`, 1n))));
      await Promise.all([pending.drop('job-0', 1n), pending.drop('job-19', 1n)]);
      const reopened = await PendingResults.open(file);
      expect(reopened.list().map((r) => r.jobId)).toEqual(Array.from({ length: 18 }, (_, i) => `job-${i + 1}`));
    });

    it('refuse to open a damaged file rather than silently forget results', async () => {
      const file = path.join(workDir, PENDING_RESULTS_FILE);
      await writeFile(file, '{"version":1,"results":[{"jobId": 5}]}');
      await expect(PendingResults.open(file)).rejects.toThrow(`cannot read pending results from ${file}`);
      await writeFile(file, 'not json');
      await expect(PendingResults.open(file)).rejects.toThrow(`cannot read pending results from ${file}`);
      expect(await readFile(file, 'utf8')).toBe('not json');
    });
  });
});

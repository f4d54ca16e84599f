/** appendLog's fence and idempotency, and readLogs' order and resumption. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_BACKOFF } from '../../../src/domain/backoff.js';
import { expire, offer } from '../../../src/domain/lifecycle.js';
import type { LogChunkRecord } from '../../../src/domain/job.js';
import type { JobStore } from '../../../src/store/job-store.js';
import { T0, TIMINGS, apply, chunk, insertRunning } from '../builders.js';
import { useStore, type MakeStore } from './harness.js';

function text(c: LogChunkRecord): string {
  return new TextDecoder().decode(c.data);
}

function positions(chunks: readonly LogChunkRecord[]): string[] {
  return chunks.map((c) => `${c.epoch}:${c.sequence}`);
}

/** A running job at epoch 1 with two chunks, then moved to epoch 2 with one more. */
async function twoEpochs(store: JobStore): Promise<void> {
  const running = await insertRunning(store, 'j1', 'f1', T0);
  expect(await store.appendLog(chunk('j1', 1, 1, 'b'))).toBe('stored');
  expect(await store.appendLog(chunk('j1', 1, 0, 'a'))).toBe('stored');
  const lost = await apply(store, expire(running, T0 + 100_000, DEFAULT_RETRY_BACKOFF, 0, 'lost'));
  await apply(store, offer(lost, 'f2', lost.notBefore, TIMINGS));
  expect(await store.appendLog(chunk('j1', 2, 0, 'c'))).toBe('stored');
}

export function describeLogs(makeStore: MakeStore): void {
  describe('appendLog and readLogs', () => {
    const store = useStore(makeStore);

    it('stores a chunk once: a repeat is a duplicate and does not overwrite', async () => {
      await insertRunning(store(), 'j1', 'f1', T0);
      expect(await store().appendLog(chunk('j1', 1, 0, 'first'))).toBe('stored');
      expect(await store().appendLog(chunk('j1', 1, 0, 'second'))).toBe('duplicate');
      const logs = await store().readLogs('j1', null, 10);
      expect(logs.map(text)).toEqual(['first']);
    });

    it('fences by epoch: only the job’s current epoch may log', async () => {
      await insertRunning(store(), 'j1', 'f1', T0);
      expect(await store().appendLog(chunk('j1', 0, 0, 'old'))).toBe('stale_epoch');
      expect(await store().appendLog(chunk('j1', 2, 0, 'future'))).toBe('stale_epoch');
      expect(await store().readLogs('j1', null, 10)).toEqual([]);
    });

    it('refuses a chunk for a job that does not exist', async () => {
      expect(await store().appendLog(chunk('ghost', 0, 0, 'x'))).toBe('not_found');
      expect(await store().readLogs('ghost', null, 10)).toEqual([]);
    });

    it('refuses the old epoch after the job was leased again, even for a new sequence', async () => {
      await twoEpochs(store());
      expect(await store().appendLog(chunk('j1', 1, 2, 'zombie'))).toBe('stale_epoch');
      expect(positions(await store().readLogs('j1', null, 10))).toEqual(['1:0', '1:1', '2:0']);
    });

    it('reads in (epoch, sequence) order and resumes strictly after a position', async () => {
      await twoEpochs(store());
      const all = await store().readLogs('j1', null, 10);
      expect(all.map(text)).toEqual(['a', 'b', 'c']);
      expect(all[0]).toStrictEqual(chunk('j1', 1, 0, 'a'));
      expect(positions(await store().readLogs('j1', { epoch: 1, sequence: 0 }, 10))).toEqual(['1:1', '2:0']);
      expect(positions(await store().readLogs('j1', { epoch: 1, sequence: 99 }, 10))).toEqual(['2:0']);
      expect(await store().readLogs('j1', { epoch: 2, sequence: 0 }, 10)).toEqual([]);
      const walked: string[] = [];
      let after: { epoch: number; sequence: number } | null = null;
      for (;;) {
        const page: LogChunkRecord[] = await store().readLogs('j1', after, 1);
        const last = page.at(-1);
        if (!last) break;
        walked.push(...positions(page));
        after = { epoch: last.epoch, sequence: last.sequence };
      }
      expect(walked).toEqual(['1:0', '1:1', '2:0']);
      expect(await store().readLogs('j1', null, 0)).toEqual([]);
    });

    it('keeps chunk bytes exact: every byte value, empty data, views into larger buffers, stream', async () => {
      await insertRunning(store(), 'j1', 'f1', T0);
      const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
      const backing = Uint8Array.from([9, 9, 1, 2, 3, 9, 9]);
      const view = backing.subarray(2, 5);
      await store().appendLog(chunk('j1', 1, 0, everyByte));
      await store().appendLog({ ...chunk('j1', 1, 1, new Uint8Array(0)), stream: 'stderr' });
      await store().appendLog(chunk('j1', 1, 2, view));
      backing.fill(0); // the store must have copied the bytes, not kept the caller's buffer
      const [all, empty, part] = await store().readLogs('j1', null, 10);
      expect(all?.data).toBeInstanceOf(Uint8Array);
      expect(Array.from(all!.data)).toEqual(Array.from(everyByte));
      expect(empty?.data.byteLength).toBe(0);
      expect(empty?.stream).toBe('stderr');
      expect(Array.from(part!.data)).toEqual([1, 2, 3]);
      part!.data.fill(7);
      expect(Array.from((await store().readLogs('j1', { epoch: 1, sequence: 1 }, 1))[0]!.data)).toEqual([1, 2, 3]);
    });
  });
}

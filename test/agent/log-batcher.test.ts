import { PassThrough } from 'node:stream';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogStream, type LogChunk } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { CHUNK_OVERHEAD_BYTES, LogBatcher, type LogSink } from '../../agent/log-batcher.js';
import { startJob } from '../../agent/job-process.js';
import { tempWorkDir } from './helpers.js';

/** A sink that always has room and keeps what it got. */
function recordingSink(): LogSink & { chunks: LogChunk[]; next: () => Promise<LogChunk> } {
  const chunks: LogChunk[] = [];
  let waiting: ((c: LogChunk) => void) | null = null;
  return {
    chunks,
    send(chunk) {
      chunks.push(chunk);
      waiting?.(chunk);
      waiting = null;
      return true;
    },
    drained: () => Promise.resolve(),
    next: () => new Promise((resolve) => (waiting = resolve)),
  };
}

function text(chunks: LogChunk[], stream?: LogStream): string {
  return Buffer.concat(chunks.filter((c) => stream === undefined || c.stream === stream).map((c) => c.data)).toString('utf8');
}

function expectGapless(chunks: LogChunk[]): void {
  expect(chunks.map((c) => c.sequence)).toEqual(chunks.map((_, i) => BigInt(i)));
}

describe('log batcher', () => {
  it('keeps the read order across streams and numbers chunks from 0 without gaps', async () => {
    const sink = recordingSink();
    const batcher = new LogBatcher({ jobId: 'job-1', epoch: 4n, sink, now: () => 1_700_000_000_000 });
    const out = new PassThrough();
    const err = new PassThrough();
    batcher.attach(out, LogStream.STDOUT);
    batcher.attach(err, LogStream.STDERR);
    out.write('one ');
    out.write('two\n');
    err.write('warn\n');
    out.end('three\n');
    err.end();

    expect(await batcher.flush()).toBe(3);
    expect(sink.chunks.map((c) => [c.stream, Buffer.from(c.data).toString()])).toEqual([
      [LogStream.STDOUT, 'one two\n'],
      [LogStream.STDERR, 'warn\n'],
      [LogStream.STDOUT, 'three\n'],
    ]);
    expectGapless(sink.chunks);
    for (const c of sink.chunks) {
      expect([c.jobId, c.epoch, timestampMs(c.time!)]).toEqual(['job-1', 4n, 1_700_000_000_000]);
    }
    expect(batcher.bufferedBytes).toBe(0);
  });

  it('cuts chunks at the size limit', async () => {
    const sink = recordingSink();
    const batcher = new LogBatcher({ jobId: 'j', epoch: 1n, sink, maxChunkBytes: 10 });
    const out = new PassThrough();
    batcher.attach(out, LogStream.STDOUT);
    out.end('abcdefghijklmnopqrstuvwxy');
    expect(await batcher.flush()).toBe(3);
    expect(sink.chunks.map((c) => Buffer.from(c.data).toString())).toEqual(['abcdefghij', 'klmnopqrst', 'uvwxy']);
  });

  it('sends a partial chunk after the flush interval while the job keeps running', async () => {
    const sink = recordingSink();
    const batcher = new LogBatcher({ jobId: 'j', epoch: 1n, sink, flushIntervalMs: 10 });
    const out = new PassThrough();
    batcher.attach(out, LogStream.STDOUT);
    const first = sink.next();
    out.write('still working\n');
    expect(Buffer.from((await first).data).toString()).toBe('still working\n');
    out.end();
    expect(await batcher.flush()).toBe(1);
  });

  describe('with a real child', () => {
    let workDir: string;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ dir: workDir, cleanup } = await tempWorkDir()));
    afterEach(() => cleanup());

    it('hands over every byte of stdout and stderr exactly, then the count for the result', async () => {
      const job = await startJob(
        { jobId: 'j', epoch: 1n, command: ['sh', '-c', 'seq 1 100000; seq 5 7 >&2'], env: {}, timeoutMs: 0 },
        { workDir, factoryId: 'f-1' },
      );
      const sink = recordingSink();
      const batcher = new LogBatcher({ jobId: 'j', epoch: 1n, sink });
      batcher.attach(job.stdout, LogStream.STDOUT);
      batcher.attach(job.stderr, LogStream.STDERR);
      const [report, count] = await Promise.all([job.done, batcher.flush()]);

      expect(report.outcome).toBe('succeeded');
      const expected = Array.from({ length: 100_000 }, (_, i) => `${i + 1}\n`).join('');
      expect(text(sink.chunks, LogStream.STDOUT)).toBe(expected);
      expect(text(sink.chunks, LogStream.STDERR)).toBe('5\n6\n7\n');
      expect(count).toBe(sink.chunks.length);
      expectGapless(sink.chunks);
      expect(Math.max(...sink.chunks.map((c) => c.data.length))).toBeLessThanOrEqual(64 * 1024);
    });

    it('keeps its buffer bounded and the event loop responsive while a child prints 100 MB into a slow sink', async () => {
      const total = 100_000_000;
      const maxBufferedBytes = 1024 * 1024;
      let received = 0;
      let expectedSequence = 0n;
      let gapless = true;
      // Full after every chunk; room again a timer tick later: far slower than the pipe.
      const sink: LogSink = {
        send(chunk) {
          received += chunk.data.length;
          gapless &&= chunk.sequence === expectedSequence++;
          return false;
        },
        drained: () => new Promise((resolve) => setTimeout(resolve, 1)),
      };
      const batcher = new LogBatcher({ jobId: 'big', epoch: 1n, sink, maxBufferedBytes });

      let lastTick = performance.now();
      let maxGapMs = 0;
      let ticks = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        maxGapMs = Math.max(maxGapMs, now - lastTick);
        lastTick = now;
        ticks++;
      }, 10);
      try {
        const job = await startJob(
          { jobId: 'big', epoch: 1n, command: ['head', '-c', String(total), '/dev/zero'], env: {}, timeoutMs: 0 },
          { workDir, factoryId: 'f-1' },
        );
        batcher.attach(job.stdout, LogStream.STDOUT);
        batcher.attach(job.stderr, LogStream.STDERR);
        const [report, count] = await Promise.all([job.done, batcher.flush()]);

        expect(report.outcome).toBe('succeeded');
        expect(received).toBe(total);
        expect(gapless).toBe(true);
        expect(count).toBe(Number(expectedSequence));
      } finally {
        clearInterval(ticker);
      }
      // The bound was reached (so back-pressure was exercised) and overshot by at most one pipe read.
      expect(batcher.peakBufferedBytes).toBeGreaterThanOrEqual(maxBufferedBytes);
      expect(batcher.peakBufferedBytes).toBeLessThanOrEqual(maxBufferedBytes + 64 * 1024 + 2 * CHUNK_OVERHEAD_BYTES);
      // The heartbeat timer would have kept firing: no long stall of the loop.
      expect(ticks).toBeGreaterThan(10);
      expect(maxGapMs).toBeLessThan(250);
    });
  });

  it('pauses its sources while the sink is full, and drops everything when abandoned', async () => {
    const sink: LogSink = { send: () => false, drained: () => new Promise<void>(() => {}) };
    const batcher = new LogBatcher({ jobId: 'j', epoch: 1n, sink, maxBufferedBytes: 1000, maxChunkBytes: 500 });
    const out = new PassThrough();
    batcher.attach(out, LogStream.STDOUT);
    for (let i = 0; i < 3; i++) out.write(Buffer.alloc(600));
    // PassThrough delivers on the microtask/nextTick queues, which have all run by setImmediate.
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.isPaused()).toBe(true);
    expect(batcher.bufferedBytes).toBeGreaterThanOrEqual(1000);

    const flushed = batcher.flush();
    batcher.abandon();
    await expect(flushed).rejects.toThrow('log of job j epoch 1 was abandoned');
    expect(batcher.bufferedBytes).toBe(0);
    expect(out.isPaused()).toBe(false);
  });

  it('fails flush() with the sink error when the sink will never drain', async () => {
    const sink: LogSink = { send: () => false, drained: () => Promise.reject(new Error('stream closed')) };
    const batcher = new LogBatcher({ jobId: 'j', epoch: 1n, sink, maxChunkBytes: 4 });
    const out = new PassThrough();
    batcher.attach(out, LogStream.STDOUT);
    out.end('12345678');
    await expect(batcher.flush()).rejects.toThrow('stream closed');
  });
});

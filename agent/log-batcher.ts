/**
 * Turns a job's stdout and stderr into LogChunk messages: batched by size and by time, numbered from
 * 0 without gaps, in the order the bytes were read. Memory is bounded: when the sink cannot keep up,
 * the batcher pauses the child's pipes, so the child blocks on its own writes instead of the agent
 * buffering a 100 MB log (or starving its heartbeat).
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { finished, type Readable } from 'node:stream';
import { LogChunkSchema, type LogChunk, type LogStream } from '../gen/ts/gigafactory/fleet/v1/log_pb.js';

/**
 * Where chunks go: in production the factory stream, wrapped into ConnectRequest. Modelled on
 * `Writable.write`, which it usually wraps: a `false` from `send` means the chunk was taken but the
 * sink is full.
 */
export interface LogSink {
  /** Takes one chunk; returns false when the caller should send no more until `drained()` resolves. */
  send(chunk: LogChunk): boolean;
  /**
   * Resolves when the sink can take more. Rejects when it never will (the stream is gone for
   * good); the batcher then abandons the log and `flush()` rejects with that error.
   */
  drained(): Promise<void>;
}

export interface LogBatcherOptions {
  jobId: string;
  epoch: bigint;
  sink: LogSink;
  /** Largest `data` in one chunk. Default 64 KiB. */
  maxChunkBytes?: number;
  /** Longest time read bytes wait for a chunk to fill. Default 100 ms. */
  flushIntervalMs?: number;
  /** Buffered bytes at which the pipes are paused; they resume at half. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Clock for chunk times. */
  now?: () => number;
}

/** How long read output waits for a chunk to fill by default: the floor of log line → follower latency. */
export const DEFAULT_LOG_FLUSH_INTERVAL_MS = 100;

/**
 * Accounted per buffered chunk on top of its data, so that a child alternating stdout and stderr
 * byte by byte (many tiny chunks) is bounded by object count too, not only by bytes.
 */
export const CHUNK_OVERHEAD_BYTES = 128;

interface OpenChunk {
  stream: LogStream;
  parts: Buffer[];
  bytes: number;
  readAtMs: number;
}

export class LogBatcher {
  private readonly jobId: string;
  private readonly epoch: bigint;
  private readonly sink: LogSink;
  private readonly maxChunkBytes: number;
  private readonly flushIntervalMs: number;
  private readonly maxBuffered: number;
  private readonly now: () => number;

  /** Sealed chunks not yet handed to the sink; `head` avoids O(n) shifts. */
  private queue: LogChunk[] = [];
  private head = 0;
  private open: OpenChunk | null = null;
  private openTimer: NodeJS.Timeout | undefined;
  private buffered = 0;
  private peak = 0;
  private sent = 0;
  private nextSequence = 0n;
  private sinkFull = false;
  private paused = false;
  /** Sources still producing; the log is complete when this is empty. */
  private readonly live = new Set<Readable>();
  private waiters: { resolve: (count: number) => void; reject: (err: Error) => void }[] = [];
  private failure: Error | null = null;

  constructor(opts: LogBatcherOptions) {
    this.jobId = opts.jobId;
    this.epoch = opts.epoch;
    this.sink = opts.sink;
    this.maxChunkBytes = opts.maxChunkBytes ?? 64 * 1024;
    this.flushIntervalMs = opts.flushIntervalMs ?? DEFAULT_LOG_FLUSH_INTERVAL_MS;
    this.maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
    this.now = opts.now ?? Date.now;
  }

  /** Bytes read but not yet handed to the sink (plus per-chunk overhead). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** The most `bufferedBytes` ever was: at most the bound plus one read from a pipe. */
  get peakBufferedBytes(): number {
    return this.peak;
  }

  /** Chunks handed to the sink so far; after `flush()`, the attempt's `log_chunk_count`. */
  get chunkCount(): number {
    return this.sent;
  }

  /** Reads one of the child's outputs until it ends. */
  attach(source: Readable, stream: LogStream): void {
    this.live.add(source);
    source.on('data', (data: Buffer | string) => this.onData(stream, typeof data === 'string' ? Buffer.from(data) : data));
    // Node itself resumes a child's pipes when the child exits (child_process flushStdio); while
    // over the bound, hold them anyway, or what is left in the pipe would bypass the bound.
    source.on('resume', () => {
      if (this.paused) source.pause();
    });
    // finished() also fires on error and premature close, so a broken pipe cannot wedge flush().
    finished(source, () => this.onSourceEnd(source, stream));
    // Joining while the others are held back: hold this one too (they all resume together).
    if (this.paused) source.pause();
  }

  /**
   * Resolves once every attached output has ended and every byte read has been handed to the sink,
   * with the number of chunks. Send the job result only after this: the log is then complete.
   */
  flush(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.settleWaiters();
    });
  }

  /**
   * Drops everything and sends nothing more: the lease was revoked. The pipes keep draining (into
   * nothing) so the child never blocks on them while it is being stopped.
   */
  abandon(): void {
    this.fail(new Error(`log of job ${this.jobId} epoch ${this.epoch} was abandoned`));
  }

  private onData(stream: LogStream, data: Buffer): void {
    if (this.failure) return;
    let offset = 0;
    while (offset < data.length) {
      if (this.open && this.open.stream !== stream) this.seal();
      const open = this.open ?? this.startChunk(stream);
      const take = Math.min(this.maxChunkBytes - open.bytes, data.length - offset);
      open.parts.push(data.subarray(offset, offset + take));
      open.bytes += take;
      this.buffered += take;
      offset += take;
      if (open.bytes >= this.maxChunkBytes) this.seal();
    }
    // Measured before pumping: this is the most the batcher ever holds at once.
    this.peak = Math.max(this.peak, this.buffered);
    this.pump();
    if (!this.paused && this.buffered >= this.maxBuffered) {
      this.paused = true;
      for (const source of this.live) source.pause();
    }
  }

  private startChunk(stream: LogStream): OpenChunk {
    const open: OpenChunk = { stream, parts: [], bytes: 0, readAtMs: this.now() };
    this.open = open;
    this.buffered += CHUNK_OVERHEAD_BYTES;
    // A quiet job's last line must not wait for more output to show up in the UI.
    this.openTimer = setTimeout(() => {
      this.seal();
      this.pump();
    }, this.flushIntervalMs);
    return open;
  }

  private seal(): void {
    const open = this.open;
    if (!open) return;
    clearTimeout(this.openTimer);
    this.open = null;
    this.queue.push(
      create(LogChunkSchema, {
        jobId: this.jobId,
        epoch: this.epoch,
        // Numbered when sealed: sealing order is sending order, so the sequence has no gaps.
        sequence: this.nextSequence++,
        stream: open.stream,
        data: open.parts.length === 1 ? (open.parts[0] as Buffer) : Buffer.concat(open.parts, open.bytes),
        time: timestampFromMs(open.readAtMs),
      }),
    );
  }

  private pump(): void {
    while (!this.sinkFull && this.head < this.queue.length) {
      const chunk = this.queue[this.head++] as LogChunk;
      this.buffered -= chunk.data.length + CHUNK_OVERHEAD_BYTES;
      this.sent++;
      if (!this.sink.send(chunk)) {
        this.sinkFull = true;
        this.sink.drained().then(
          () => {
            this.sinkFull = false;
            if (!this.failure) this.pump();
          },
          (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))),
        );
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    if (this.paused && this.buffered <= this.maxBuffered / 2) {
      // Resuming at half, not just below the bound, keeps the pipes from flapping per chunk.
      this.paused = false;
      for (const source of this.live) source.resume();
    }
    this.settleWaiters();
  }

  private onSourceEnd(source: Readable, stream: LogStream): void {
    this.live.delete(source);
    if (this.failure) return;
    // The stream's last bytes need not wait for the timer.
    if (this.open?.stream === stream) this.seal();
    this.pump();
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    if (this.failure) {
      for (const w of this.waiters) w.reject(this.failure);
    } else if (this.live.size === 0 && this.open === null && this.head === this.queue.length) {
      for (const w of this.waiters) w.resolve(this.sent);
    } else return;
    this.waiters = [];
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    clearTimeout(this.openTimer);
    this.open = null;
    this.queue = [];
    this.head = 0;
    this.buffered = 0;
    this.paused = false;
    for (const source of this.live) source.resume();
    this.settleWaiters();
  }
}

/**
 * A job's output as lines of styled segments, built from TailLogs chunks. Chunks are decoded per
 * (epoch, stream), so stdout and stderr each keep their own partial line, UTF-8 state and colours.
 * A chunk at or before the last one seen is ignored, so a stream reopened after a disconnect (which
 * replays from the start) adds nothing twice. A carriage return without a newline rewrites its line,
 * as a terminal shows progress bars.
 */
import { LogStream, type LogChunk } from '../../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { AnsiDecoder, type Segment } from './ansi.js';
import { ms } from './format.js';

export interface LogLine {
  /** 1-based line number within the job's output (dividers have 0). */
  n: number;
  /** 1-based line number within its attempt's output, as in a #L<epoch>-<line> link (dividers have 0). */
  lineInAttempt: number;
  epoch: bigint;
  stream: LogStream;
  segments: Segment[];
  /** Set on the line that starts an attempt's output. */
  divider?: boolean;
  /** When the chunk that started the line was read. */
  at: number | null;
}

/** Past this, the oldest lines are dropped (the download says so). */
const MAX_LINES = 200_000;

interface StreamState {
  text: TextDecoder;
  ansi: AnsiDecoder;
  open: LogLine | null;
  /** A carriage return was the last character: the next text rewrites the line unless it is "\n". */
  pendingCr: boolean;
}

export class LogBuffer {
  readonly lines: LogLine[] = [];
  /** Increases on every change; views re-render on it. */
  version = 0;
  bytes = 0;
  dropped = 0;
  private count = 0;
  private countInAttempt = 0;
  private epoch: bigint | null = null;
  private last: { epoch: bigint; sequence: bigint } | null = null;

  /** The last chunk taken: a reopened stream resumes after it. */
  get position(): { epoch: bigint; sequence: bigint } | null {
    return this.last;
  }
  private streams = new Map<LogStream, StreamState>();

  /** Adds a chunk; false when it was seen already. */
  append(chunk: LogChunk): boolean {
    if (this.last && (chunk.epoch < this.last.epoch || (chunk.epoch === this.last.epoch && chunk.sequence <= this.last.sequence))) return false;
    this.last = { epoch: chunk.epoch, sequence: chunk.sequence };
    const at = ms(chunk.time);
    if (chunk.epoch !== this.epoch) {
      this.epoch = chunk.epoch;
      this.streams = new Map();
      this.countInAttempt = 0;
      this.pushLine({ n: 0, lineInAttempt: 0, epoch: chunk.epoch, stream: LogStream.UNSPECIFIED, segments: [], divider: true, at });
    }
    const state = this.stream(chunk.stream);
    this.bytes += chunk.data.byteLength;
    const text = state.text.decode(chunk.data, { stream: true });
    for (const segment of state.ansi.feed(text)) this.write(state, chunk, segment, at);
    this.version++;
    return true;
  }

  /** The whole output as plain text, attempts separated by a marker line. */
  plainText(): string {
    const out: string[] = [];
    if (this.dropped) out.push(`[${this.dropped} earlier lines were dropped by the viewer; the coordinator keeps them all]`);
    for (const line of this.lines) {
      out.push(line.divider ? `----- attempt with epoch ${line.epoch} -----` : lineText(line));
    }
    return out.join('\n') + '\n';
  }

  private stream(stream: LogStream): StreamState {
    let state = this.streams.get(stream);
    if (!state) {
      state = { text: new TextDecoder(), ansi: new AnsiDecoder(), open: null, pendingCr: false };
      this.streams.set(stream, state);
    }
    return state;
  }

  private write(state: StreamState, chunk: LogChunk, segment: Segment, at: number | null): void {
    // Split on newlines and carriage returns, keeping which one ended each piece.
    const parts = segment.text.split(/(\r\n|\n|\r)/);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i % 2 === 1) {
        if (part === '\r') state.pendingCr = true;
        else {
          this.ensureOpen(state, chunk, at);
          state.open = null;
          state.pendingCr = false;
        }
        continue;
      }
      if (!part) continue;
      if (state.pendingCr && state.open) state.open.segments = [];
      state.pendingCr = false;
      const line = this.ensureOpen(state, chunk, at);
      const prev = line.segments.at(-1);
      if (prev && prev.style === segment.style) prev.text += part;
      else line.segments.push({ text: part, style: segment.style });
    }
  }

  private ensureOpen(state: StreamState, chunk: LogChunk, at: number | null): LogLine {
    if (!state.open) {
      state.open = { n: ++this.count, lineInAttempt: ++this.countInAttempt, epoch: chunk.epoch, stream: chunk.stream, segments: [], at };
      this.pushLine(state.open);
    }
    return state.open;
  }

  private pushLine(line: LogLine): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) {
      const drop = this.lines.length - MAX_LINES;
      this.lines.splice(0, drop);
      this.dropped += drop;
    }
  }
}

export function lineText(line: LogLine): string {
  return line.segments.map((s) => s.text).join('');
}

/**
 * Where `gigafactory top` puts its frames. On a terminal: the alternate screen with the cursor
 * hidden (both restored however the process ends), each frame written as only the lines that
 * changed since the last one, so a frame where a clock moved costs a few bytes. Anywhere else (a
 * pipe, a file): frames as plain text without escapes, a blank line between them, and a frame only
 * when something besides its clock changed, like `top -b`.
 */
import { writeSync } from 'node:fs';

const ENTER = '\u001b[?1049h\u001b[?25l';
const LEAVE = '\u001b[?25h\u001b[?1049l';
const CLEAR = '\u001b[H\u001b[2J';

export interface FrameSink {
  show(lines: readonly string[]): void;
  /** The next frame is drawn whole (the terminal was resized). */
  invalidate(): void;
  close(): void;
}

/**
 * The bytes that turn the screen showing `previous` into `next`: each changed line rewritten in
 * place and cleared to its end, the lines below a shorter frame cleared; everything when
 * `previous` is null.
 */
export function screenUpdate(previous: readonly string[] | null, next: readonly string[]): string {
  let out = previous === null ? CLEAR : '';
  next.forEach((line, i) => {
    if (previous !== null && previous[i] === line) return;
    out += `\u001b[${i + 1};1H${line}\u001b[K`;
  });
  if (previous !== null && previous.length > next.length) out += `\u001b[${next.length + 1};1H\u001b[J`;
  return out;
}

export class TerminalScreen implements FrameSink {
  private drawn: readonly string[] | null = null;
  private open = true;
  // Written synchronously on the way out, even after an uncaught error: a terminal left on the
  // alternate screen with no cursor is unusable.
  private readonly restore = (): void => {
    if (this.open) writeSync(this.out.fd, LEAVE);
  };

  constructor(private readonly out: NodeJS.WriteStream & { fd: number }) {
    out.write(ENTER);
    process.on('exit', this.restore);
  }

  show(lines: readonly string[]): void {
    const update = screenUpdate(this.drawn, lines);
    this.drawn = lines;
    if (update) this.out.write(update);
  }

  invalidate(): void {
    this.drawn = null;
  }

  close(): void {
    if (!this.open) return;
    this.out.write(LEAVE);
    this.open = false;
    process.off('exit', this.restore);
  }
}

export class PlainFrames implements FrameSink {
  private body: string | null = null;

  constructor(private readonly out: NodeJS.WritableStream) {}

  show(lines: readonly string[]): void {
    // The first line carries the clock: a frame that differs only there says nothing new.
    const body = lines.slice(1).join('\n');
    if (body === this.body) return;
    this.out.write(`${this.body === null ? '' : '\n'}${lines.join('\n')}\n`);
    this.body = body;
  }

  invalidate(): void {}

  close(): void {}
}

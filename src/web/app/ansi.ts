/**
 * ANSI escape sequences in job output → styled text. SGR colours (16, 256 and 24-bit), bold, dim,
 * italic, underline, inverse and strike are kept; cursor movement, OSC titles and other controls are
 * dropped. State carries across chunks, including a sequence split between two chunks.
 */

export interface Style {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
  strike?: boolean;
}

export interface Segment {
  text: string;
  style: Style | null;
}

/** The 16 base colours, tuned for the log viewer's dark background. */
export const PALETTE = [
  '#3b4252', '#f87171', '#4ade80', '#facc15', '#60a5fa', '#c084fc', '#22d3ee', '#d1d5db',
  '#6b7280', '#fca5a5', '#86efac', '#fde047', '#93c5fd', '#d8b4fe', '#67e8f9', '#f9fafb',
] as const;

function xterm256(n: number): string | undefined {
  if (n < 0 || n > 255) return undefined;
  if (n < 16) return PALETTE[n];
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const level = (x: number): number => (x === 0 ? 0 : 55 + x * 40);
  return `rgb(${level(Math.floor(i / 36))},${level(Math.floor(i / 6) % 6)},${level(i % 6)})`;
}

// A whole escape sequence: CSI, OSC (ended by BEL or ST), or a two-byte escape.
const SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/y;
// Controls other than \t, \n and \r are dropped.
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]/g;
const MAX_PENDING = 256;

export class AnsiDecoder {
  private style: Style = {};
  private pending = '';

  /** Styled pieces of `text`; newlines and carriage returns stay in the text. */
  feed(input: string): Segment[] {
    const text = this.pending + input;
    this.pending = '';
    const out: Segment[] = [];
    let plainStart = 0;
    let i = text.indexOf('\x1b');
    while (i >= 0) {
      SEQUENCE.lastIndex = i;
      const match = SEQUENCE.exec(text);
      if (!match) {
        // Possibly a sequence cut by the chunk boundary: keep it for the next chunk.
        if (text.length - i < MAX_PENDING && !/[\x07\n]/.test(text.slice(i))) {
          this.push(out, text.slice(plainStart, i));
          this.pending = text.slice(i);
          return out;
        }
        i = text.indexOf('\x1b', i + 1);
        continue;
      }
      this.push(out, text.slice(plainStart, i));
      const seq = match[0];
      if (seq.startsWith('\x1b[') && seq.endsWith('m')) this.applySgr(seq.slice(2, -1));
      plainStart = i + seq.length;
      i = text.indexOf('\x1b', plainStart);
    }
    this.push(out, text.slice(plainStart));
    return out;
  }

  private push(out: Segment[], raw: string): void {
    const text = raw.replace(/\x1b/g, '').replace(CONTROLS, '');
    if (!text) return;
    const style = this.current();
    const prev = out.at(-1);
    if (prev && prev.style === style) prev.text += text;
    else out.push({ text, style });
  }

  private cached: Style | null = null;
  private dirty = true;

  /** The current style as a shared object (null when plain), so equal runs merge. */
  private current(): Style | null {
    if (this.dirty) {
      const s = this.style;
      this.cached = Object.keys(s).length ? { ...s } : null;
      this.dirty = false;
    }
    return this.cached;
  }

  private applySgr(params: string): void {
    this.dirty = true;
    const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
    let s = this.style;
    for (let k = 0; k < codes.length; k++) {
      const c = codes[k]!;
      if (c === 0) s = this.style = {};
      else if (c === 1) s.bold = true;
      else if (c === 2) s.dim = true;
      else if (c === 3) s.italic = true;
      else if (c === 4) s.underline = true;
      else if (c === 7) s.inverse = true;
      else if (c === 9) s.strike = true;
      else if (c === 22) (delete s.bold, delete s.dim);
      else if (c === 23) delete s.italic;
      else if (c === 24) delete s.underline;
      else if (c === 27) delete s.inverse;
      else if (c === 29) delete s.strike;
      else if (c >= 30 && c <= 37) s.fg = PALETTE[c - 30]!;
      else if (c >= 90 && c <= 97) s.fg = PALETTE[c - 90 + 8]!;
      else if (c >= 40 && c <= 47) s.bg = PALETTE[c - 40]!;
      else if (c >= 100 && c <= 107) s.bg = PALETTE[c - 100 + 8]!;
      else if (c === 39) delete s.fg;
      else if (c === 49) delete s.bg;
      else if (c === 38 || c === 48) {
        let color: string | undefined;
        if (codes[k + 1] === 5) {
          color = xterm256(codes[k + 2] ?? -1);
          k += 2;
        } else if (codes[k + 1] === 2) {
          const [r, g, b] = [codes[k + 2] ?? 0, codes[k + 3] ?? 0, codes[k + 4] ?? 0];
          color = `rgb(${r},${g},${b})`;
          k += 4;
        }
        if (color) {
          if (c === 38) s.fg = color;
          else s.bg = color;
        }
      }
    }
  }
}

/** Text without escape sequences (for downloads and search). */
export function stripAnsi(text: string): string {
  const decoder = new AnsiDecoder();
  return decoder.feed(text).map((s) => s.text).join('');
}

/** Inline CSS for a style (inverse swaps the colours). */
export function styleCss(style: Style): Record<string, string> {
  const css: Record<string, string> = {};
  const fg = style.inverse ? (style.bg ?? 'var(--log-bg)') : style.fg;
  const bg = style.inverse ? (style.fg ?? 'var(--log-fg)') : style.bg;
  if (fg) css.color = fg;
  if (bg) css.backgroundColor = bg;
  if (style.bold) css.fontWeight = '700';
  if (style.dim) css.opacity = '0.7';
  if (style.italic) css.fontStyle = 'italic';
  const decoration = [style.underline ? 'underline' : '', style.strike ? 'line-through' : ''].filter(Boolean).join(' ');
  if (decoration) css.textDecoration = decoration;
  return css;
}

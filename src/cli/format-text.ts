/**
 * Plain text for the terminal: one value to stdout, aligned tables, and job text made harmless.
 * Free of protobuf so every command, loaded or not, can use it.
 */

/** One value to stdout: a string as it is, anything else as indented JSON. */
export function print(value: unknown): void {
  process.stdout.write((typeof value === 'string' ? value : JSON.stringify(value, null, 2)) + '\n');
}

export function table(header: string[], rows: string[][]): string {
  rows = rows.map((row) => row.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * Text from jobs (titles, reasons, labels, messages) as the terminal should show it: control
 * characters, which could move the cursor, clear the screen or forge lines, are written as escapes.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/**
 * The browser app's pure parts, run in Node: ANSI decoding, the log buffer built from TailLogs
 * chunks, and the parsing of what operators type into the submit form.
 */
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { LogChunkSchema, LogStream } from '../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { AnsiDecoder, PALETTE, stripAnsi } from '../../src/web/app/ansi.js';
import { parseRequirement, parseRequirements, splitCommand } from '../../src/web/app/input.js';
import { LogBuffer, lineText } from '../../src/web/app/log-buffer.js';

const encoder = new TextEncoder();
const chunk = (epoch: number, sequence: number, data: string | Uint8Array, stream = LogStream.STDOUT) =>
  create(LogChunkSchema, { jobId: 'job_1', epoch: BigInt(epoch), sequence: BigInt(sequence), stream, data: typeof data === 'string' ? encoder.encode(data) : data });

describe('AnsiDecoder', () => {
  it('turns SGR sequences into styles and resets them', () => {
    const segments = new AnsiDecoder().feed('\x1b[1;32mPASS\x1b[0m unit \x1b[38;5;196mred\x1b[39m \x1b[48;2;1;2;3mbg\x1b[m');
    expect(segments).toEqual([
      { text: 'PASS', style: { bold: true, fg: PALETTE[2] } },
      { text: ' unit ', style: null },
      { text: 'red', style: { fg: 'rgb(255,0,0)' } },
      { text: ' ', style: null },
      { text: 'bg', style: { bg: 'rgb(1,2,3)' } },
    ]);
  });

  it('keeps a sequence split across chunks and drops cursor movement and titles', () => {
    const decoder = new AnsiDecoder();
    expect(decoder.feed('a\x1b[3')).toEqual([{ text: 'a', style: null }]);
    expect(decoder.feed('1mb\x1b[2K\x1b]0;title\x07c')).toEqual([{ text: 'bc', style: { fg: PALETTE[1] } }]);
    expect(stripAnsi('\x1b[33mwarn\x1b[0m\x07 done')).toBe('warn done');
  });
});

describe('LogBuffer', () => {
  it('splits lines per stream, keeps colours across chunks and ignores replayed chunks', () => {
    const buffer = new LogBuffer();
    expect(buffer.append(chunk(1, 0, 'one\ntw'))).toBe(true);
    expect(buffer.append(chunk(1, 1, 'oops\n', LogStream.STDERR))).toBe(true);
    expect(buffer.append(chunk(1, 2, 'o\n\x1b[32mgreen'))).toBe(true);
    expect(buffer.append(chunk(1, 3, ' still\n'))).toBe(true);
    expect(buffer.append(chunk(1, 1, 'oops\n', LogStream.STDERR))).toBe(false); // a reopened stream replays
    const lines = buffer.lines.filter((l) => !l.divider);
    expect(lines.map(lineText)).toEqual(['one', 'two', 'oops', 'green still']);
    expect(lines[2]!.stream).toBe(LogStream.STDERR);
    expect(lines[3]!.segments.every((s) => s.style?.fg === PALETTE[2])).toBe(true);
  });

  it('marks each attempt, decodes UTF-8 split across chunks, and rewrites a line on carriage return', () => {
    const buffer = new LogBuffer();
    const check = encoder.encode('✓ ok\n');
    buffer.append(chunk(1, 0, check.slice(0, 2)));
    buffer.append(chunk(1, 1, check.slice(2)));
    buffer.append(chunk(2, 0, 'progress 10%\rprogress 100%\r\ndone\n'));
    expect(buffer.lines.map((l) => (l.divider ? `-- epoch ${l.epoch}` : lineText(l)))).toEqual(['-- epoch 1', '✓ ok', '-- epoch 2', 'progress 100%', 'done']);
    // Line links (#L<epoch>-<line>) count within each attempt; the job-wide number keeps going.
    expect(buffer.lines.map((l) => [l.n, l.lineInAttempt])).toEqual([[0, 0], [1, 1], [0, 0], [2, 1], [3, 2]]);
    expect(buffer.plainText()).toBe('----- attempt with epoch 1 -----\n✓ ok\n----- attempt with epoch 2 -----\nprogress 100%\ndone\n');
  });
});

describe('form input', () => {
  it('splits a command line like a shell, without running one', () => {
    expect(splitCommand(`node -e 'console.log("a b")' --flag="x y" plain\\ word ""`)).toEqual(['node', '-e', 'console.log("a b")', '--flag=x y', 'plain word', '']);
    expect(() => splitCommand('echo "open')).toThrow('The command has an unterminated double quote.');
  });

  it('reads label requirements in the CLI syntax', () => {
    expect(parseRequirements('os=linux, gpu=a100|h100 mem_gb>=32 !spot pool')).toEqual([
      { key: 'os', operator: LabelOperator.EQUALS, values: ['linux'] },
      { key: 'gpu', operator: LabelOperator.IN, values: ['a100', 'h100'] },
      { key: 'mem_gb', operator: LabelOperator.GREATER_OR_EQUAL, values: ['32'] },
      { key: 'spot', operator: LabelOperator.NOT_EXISTS, values: [] },
      { key: 'pool', operator: LabelOperator.EXISTS, values: [] },
    ]);
    expect(parseRequirement('zone!=a|b')).toEqual({ key: 'zone', operator: LabelOperator.NOT_IN, values: ['a', 'b'] });
    expect(() => parseRequirement('=x')).toThrow(/must look like key=value/);
  });
});

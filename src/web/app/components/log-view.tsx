/**
 * A job's output: ANSI colours, stderr marked, one divider per attempt, search with highlighting
 * (optionally only matching lines), follow (stick to the bottom while output arrives) and download
 * as plain text. Each line number links to the line (#L<epoch>-<line>, the line counted within its
 * attempt); opening such a link scrolls to the line and marks it, once it has arrived.
 */
import type { JSX } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { LogStream } from '../../../../gen/ts/gigafactory/fleet/v1/log_pb.js';
import { styleCss, type Segment } from '../ansi.js';
import { clockTime, formatBytes, plural } from '../format.js';
import { lineText, type LogBuffer, type LogLine } from '../log-buffer.js';

/** Lines rendered at once; the download has everything. */
const MAX_RENDERED = 5_000;

export type LogStatus = 'connecting' | 'following' | 'retrying' | 'complete';

const STATUS_TEXT: Record<LogStatus, string> = {
  connecting: 'Connecting…',
  following: 'Live',
  retrying: 'Reconnecting…',
  complete: 'Complete',
};

export function LogView({ buffer, version, status, jobId, factoryOf }: { buffer: LogBuffer; version: number; status: LogStatus; jobId: string; factoryOf: (epoch: bigint) => string | undefined }): JSX.Element {
  const [search, setSearch] = useState('');
  const [onlyMatches, setOnlyMatches] = useState(false);
  const target = useLineTarget();
  const [follow, setFollow] = useState(target === null);
  const box = useRef<HTMLDivElement>(null);
  const reached = useRef<string | null>(null);

  const needle = search.toLowerCase();
  let matchLines = 0;
  let matchCount = 0;
  let lines: LogLine[] = buffer.lines;
  if (needle) {
    const hit: LogLine[] = [];
    for (const line of buffer.lines) {
      if (line.divider) {
        if (!onlyMatches) hit.push(line);
        continue;
      }
      const count = countMatches(lineText(line).toLowerCase(), needle);
      if (count) {
        matchLines++;
        matchCount += count;
        hit.push(line);
      } else if (!onlyMatches) hit.push(line);
    }
    lines = hit;
  }
  const hidden = Math.max(0, lines.length - MAX_RENDERED);
  const shown = hidden ? lines.slice(hidden) : lines;

  useLayoutEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [version, follow, shown.length]);

  // A linked line: scroll to it once, when it is there (the output may still be arriving).
  useEffect(() => {
    if (target === null || reached.current === target) return;
    const line = box.current?.querySelector(`[id="${target}"]`);
    if (!line) return;
    reached.current = target;
    setFollow(false);
    line.scrollIntoView({ block: 'center' });
  }, [target, version, shown.length]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const onScroll = (): void => {
      const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      setFollow(atBottom);
    };
    el.addEventListener('scroll', onScroll, { passive: true });
    return () => el.removeEventListener('scroll', onScroll);
  }, []);

  const download = (): void => {
    const blob = new Blob([buffer.plainText()], { type: 'text/plain;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${jobId}.log`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  const empty = buffer.lines.length === 0;
  return (
    <section class="panel log-panel" aria-label="Output">
      <header class="log-toolbar">
        <h2 class="panel-title">Output</h2>
        <span class={`log-status log-status-${status}`} data-status={status}>
          <span class="log-status-dot" />
          {STATUS_TEXT[status]}
        </span>
        <span class="muted small">{empty ? '' : `${plural(buffer.lines.filter((l) => !l.divider).length, 'line')} · ${formatBytes(buffer.bytes)}`}</span>
        <div class="log-tools">
          <div class="log-search">
            <svg viewBox="0 0 20 20" aria-hidden="true"><path fill="currentColor" d="M8.5 3a5.5 5.5 0 0 1 4.4 8.8l4 4-1.2 1.2-4-4A5.5 5.5 0 1 1 8.5 3Zm0 1.7a3.8 3.8 0 1 0 0 7.6 3.8 3.8 0 0 0 0-7.6Z" /></svg>
            <input class="input input-small" type="search" name="log-search" placeholder="Search output" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
          </div>
          {needle && <span class="muted small log-matches">{matchCount ? `${plural(matchCount, 'match', 'matches')} in ${plural(matchLines, 'line')}` : 'no match'}</span>}
          <label class="toggle">
            <input type="checkbox" checked={onlyMatches} onChange={(e) => setOnlyMatches(e.currentTarget.checked)} disabled={!needle} />
            Only matching lines
          </label>
          <label class="toggle">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />
            Follow
          </label>
          <button type="button" class="button button-secondary button-small" onClick={download} disabled={empty}>
            Download
          </button>
        </div>
      </header>
      <div class="log" ref={box} role="log" aria-live="off" data-lines={buffer.lines.length}>
        {empty ? (
          <div class="log-empty">{status === 'complete' ? 'This job printed nothing.' : 'No output yet. It appears here as the factory sends it.'}</div>
        ) : (
          <>
            {hidden > 0 && <div class="log-notice">{plural(hidden, 'earlier line')} not shown here; download the output to see everything.</div>}
            {shown.map((line) =>
              line.divider ? (
                <div class="log-divider" key={`d${line.epoch}`}>
                  <span>
                    Attempt · epoch {String(line.epoch)}
                    {factoryOf(line.epoch) ? ` · ${factoryOf(line.epoch)}` : ''}
                    {line.at !== null ? ` · ${clockTime(line.at)}` : ''}
                  </span>
                </div>
              ) : (
                <div
                  class={`log-line${line.stream === LogStream.STDERR ? ' log-stderr' : ''}${lineId(line) === target ? ' log-line-target' : ''}`}
                  key={line.n}
                  id={lineId(line)}
                >
                  <a class="log-n" href={`#${lineId(line)}`} title="Link to this line">
                    {line.lineInAttempt}
                  </a>
                  <span class="log-text">{renderSegments(line.segments, needle)}</span>
                </div>
              ),
            )}
          </>
        )}
      </div>
    </section>
  );
}

/** "L2-15": line 15 of the attempt with epoch 2. */
function lineId(line: LogLine): string {
  return `L${line.epoch}-${line.lineInAttempt}`;
}

/** The line the page's #L<epoch>-<line> names, kept current as the hash changes. */
function useLineTarget(): string | null {
  const read = (): string | null => (/^#L\d+-\d+$/.test(location.hash) ? location.hash.slice(1) : null);
  const [target, setTarget] = useState(read);
  useEffect(() => {
    const update = (): void => setTarget(read());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return target;
}

function countMatches(haystack: string, needle: string): number {
  let count = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) count++;
  return count;
}

/** Segments as spans, with search matches wrapped in <mark> (matches may cross segments). */
function renderSegments(segments: Segment[], needle: string): JSX.Element[] {
  const text = segments.map((s) => s.text).join('');
  const ranges: [number, number][] = [];
  if (needle) {
    const lower = text.toLowerCase();
    for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, i + needle.length)) ranges.push([i, i + needle.length]);
  }
  const out: JSX.Element[] = [];
  let offset = 0;
  let key = 0;
  for (const segment of segments) {
    const start = offset;
    const end = offset + segment.text.length;
    offset = end;
    const style = segment.style ? styleCss(segment.style) : undefined;
    let cursor = start;
    for (const [a, b] of ranges) {
      if (b <= cursor || a >= end) continue;
      if (a > cursor) out.push(<span key={key++} style={style}>{text.slice(cursor, a)}</span>);
      const to = Math.min(b, end);
      out.push(<mark key={key++} style={style}>{text.slice(Math.max(a, cursor), to)}</mark>);
      cursor = to;
    }
    if (cursor < end) out.push(<span key={key++} style={style}>{text.slice(cursor, end)}</span>);
  }
  return out;
}

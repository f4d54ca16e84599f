/**
 * Server streams that survive a coordinator restart or a network blip: the stream is opened again
 * with exponential back-off (1 s … 15 s, with jitter) until the caller stops it. Browsers allow six
 * HTTP/1.1 connections per host, so the app keeps few streams open: one shared WatchJobs for every
 * page (events.ts), plus one job's history and logs on the job page.
 */
import { noteRefusal } from './rpc.js';
import { describeError } from './errors.js';

/**
 * A server stream's response headers arrive with its first message (the server sends nothing
 * before), so a stream that has not failed within this long counts as open.
 */
const OPEN_GRACE_MS = 1_000;

export type StreamState =
  | { kind: 'connecting' }
  | { kind: 'open' }
  | { kind: 'ended' }
  | { kind: 'retrying'; error: string; inMs: number };

export interface StreamOptions<T> {
  /** Opens the stream; `onOpen` is passed as the call's onHeader (the response has started). */
  open(signal: AbortSignal, onOpen: () => void): AsyncIterable<T>;
  onMessage(message: T): void;
  onState?(state: StreamState, reopened: boolean): void;
  /** Open again after a clean end (live feeds), or stop there (TailLogs ends when the job does). */
  reopenOnEnd: boolean;
  /** What the stream is for, for error sentences ("follow job changes"). */
  purpose: string;
}

/** Runs until the returned function is called. */
export function followStream<T>(opts: StreamOptions<T>): () => void {
  const abort = new AbortController();
  void (async () => {
    let delay = 1_000;
    let attempts = 0;
    while (!abort.signal.aborted) {
      const reopened = attempts++ > 0;
      opts.onState?.({ kind: 'connecting' }, reopened);
      let opened = false;
      const onOpen = (): void => {
        if (opened) return;
        opened = true;
        delay = 1_000;
        opts.onState?.({ kind: 'open' }, reopened);
      };
      let error: string;
      const grace = setTimeout(onOpen, OPEN_GRACE_MS);
      try {
        for await (const message of opts.open(abort.signal, onOpen)) {
          onOpen();
          opts.onMessage(message);
        }
        if (abort.signal.aborted) return;
        if (!opts.reopenOnEnd) {
          opts.onState?.({ kind: 'ended' }, reopened);
          return;
        }
        error = 'The coordinator closed the stream.';
      } catch (err) {
        if (abort.signal.aborted) return;
        noteRefusal(err);
        error = describeError(err, opts.purpose);
      } finally {
        clearTimeout(grace);
      }
      const wait = Math.round(delay * (0.8 + Math.random() * 0.4));
      opts.onState?.({ kind: 'retrying', error, inMs: wait }, reopened);
      await sleep(wait, abort.signal);
      delay = Math.min(delay * 2, 15_000);
    }
  })();
  return () => abort.abort();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

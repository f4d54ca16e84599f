/** Data-loading hooks shared by the pages. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from './errors.js';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  /** Loads again now (keeps showing the previous data meanwhile). */
  reload(): void;
  /** Loads again soon: many calls within `debounceMs` make one request. */
  reloadSoon(): void;
}

/**
 * Calls `load` on mount and whenever `deps` change; the previous call is aborted. Errors become
 * sentences ("Could not {doing}: …").
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], doing: string, debounceMs = 400): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: true });
  const current = useRef<AbortController | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(load);
  latest.current = load;

  const reload = useCallback(() => {
    current.current?.abort();
    const abort = new AbortController();
    current.current = abort;
    setState((s) => ({ ...s, loading: true }));
    latest.current(abort.signal).then(
      (data) => {
        if (!abort.signal.aborted) setState({ data, error: null, loading: false });
      },
      (err: unknown) => {
        if (!abort.signal.aborted) setState((s) => ({ ...s, error: describeError(err, doing), loading: false }));
      },
    );
  }, [doing]);

  const reloadSoon = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      reload();
    }, debounceMs);
  }, [reload, debounceMs]);

  useEffect(() => {
    reload();
    return () => {
      current.current?.abort();
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    };
  }, deps);

  return { ...state, reload, reloadSoon };
}

/** A counter to bump when mutable data changed; bumps within `ms` render once. */
export function useThrottledTick(ms = 200): [number, () => void] {
  const [tick, setTick] = useState(0);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (pending.current) clearTimeout(pending.current);
  }, []);
  const bump = useCallback(() => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      setTick((t) => t + 1);
    }, ms);
  }, [ms]);
  return [tick, bump];
}

/** Calls `fn` every `ms` while mounted. */
export function useInterval(fn: () => void, ms: number): void {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    const timer = setInterval(() => latest.current(), ms);
    return () => clearInterval(timer);
  }, [ms]);
}

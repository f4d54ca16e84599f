/**
 * One WatchJobs stream for the whole app. Pages subscribe to job events; after a reconnect they are
 * told to reload (`resync`), since events may have been missed while the stream was down.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { JobEvent } from '../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { jobService } from './rpc.js';
import { followStream, type StreamState } from './streams.js';

type EventListener = (event: JobEvent) => void;
type Listener = () => void;

class JobEventHub {
  state: StreamState = { kind: 'connecting' };
  private readonly listeners = new Set<EventListener>();
  private readonly resyncListeners = new Set<Listener>();
  private readonly stateListeners = new Set<Listener>();
  private stop: (() => void) | null = null;

  start(): void {
    this.stop ??= followStream({
      purpose: 'follow job changes',
      reopenOnEnd: true,
      open: (signal, onOpen) => jobService.watchJobs({}, { signal, onHeader: onOpen }),
      onMessage: (res) => {
        if (!res.event) return;
        for (const listener of [...this.listeners]) listener(res.event);
      },
      onState: (state, reopened) => {
        this.state = state;
        for (const listener of [...this.stateListeners]) listener();
        if (state.kind === 'open' && reopened) for (const listener of [...this.resyncListeners]) listener();
      },
    });
  }

  /** Stops the stream (sign-out, tests); `start` opens it again. */
  restart(): void {
    this.stop?.();
    this.stop = null;
    this.start();
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onResync(listener: Listener): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  onState(listener: Listener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }
}

export const jobEvents = new JobEventHub();

/** Calls the latest `handler` for every job event while the component is mounted. */
export function useJobEvents(handler: EventListener, onResync?: () => void): void {
  const latest = useRef({ handler, onResync });
  latest.current = { handler, onResync };
  useEffect(() => {
    const offEvent = jobEvents.onEvent((event) => latest.current.handler(event));
    const offResync = jobEvents.onResync(() => latest.current.onResync?.());
    return () => {
      offEvent();
      offResync();
    };
  }, []);
}

export function useLiveState(): StreamState {
  const [state, setState] = useState(jobEvents.state);
  useEffect(() => jobEvents.onState(() => setState(jobEvents.state)), []);
  return state;
}

/**
 * Heartbeats that coalesce, after Temporal's worker: at most one heartbeat awaits its ack and at
 * most one more is pending behind it. A slow coordinator therefore sees one heartbeat per round
 * trip, never a backlog, and the pending one is built when it is sent, so it carries the jobs
 * running then rather than a stale list.
 */
import { create } from '@bufbuild/protobuf';
import {
  HeartbeatSchema,
  type Heartbeat,
  type JobRef,
} from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';

export interface HeartbeatState {
  /** A heartbeat was sent and its ack has not arrived. */
  inFlight: boolean;
  /** A heartbeat fell due while one was in flight; it goes out when the ack arrives. */
  pending: boolean;
}

/** `due`: the timer fired or a heartbeat was requested. `acked`: the in-flight heartbeat was acknowledged. */
export type HeartbeatEvent = 'due' | 'acked';

export const INITIAL_HEARTBEAT_STATE: HeartbeatState = { inFlight: false, pending: false };

/** Pure: decides whether to send now. Never sends while one is in flight. */
export function reduceHeartbeat(state: HeartbeatState, event: HeartbeatEvent): { state: HeartbeatState; send: boolean } {
  switch (event) {
    case 'due':
      if (state.inFlight) return { state: { inFlight: true, pending: true }, send: false };
      return { state: { inFlight: true, pending: false }, send: true };
    case 'acked':
      // An ack with nothing in flight is a duplicate: nothing changes.
      if (!state.inFlight) return { state, send: false };
      if (state.pending) return { state: { inFlight: true, pending: false }, send: true };
      return { state: INITIAL_HEARTBEAT_STATE, send: false };
  }
}

export interface HeartbeaterOptions {
  /** From the coordinator's welcome. */
  intervalMs: number;
  /** Writes the heartbeat to the stream. */
  send: (heartbeat: Heartbeat) => void;
  /** The leases to renew, read when a heartbeat is built. */
  runningJobs: () => JobRef[];
}

/**
 * The clock and the stream around `reduceHeartbeat`. Use one per stream: sequences start at 1 on
 * each, as the coordinator echoes them per stream.
 */
export class Heartbeater {
  private state: HeartbeatState = INITIAL_HEARTBEAT_STATE;
  private sequence = 0n;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: HeartbeaterOptions) {}

  /** Starts the interval timer; the first heartbeat goes out one interval from now. */
  start(): void {
    this.stop();
    this.timer = setInterval(() => this.dispatch('due'), this.opts.intervalMs);
  }

  /** Stops the timer (the stream ended). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Asks for a heartbeat now, e.g. when a job started or ended; coalesced like a timer tick. */
  request(): void {
    this.dispatch('due');
  }

  /**
   * Handles a heartbeat_ack. Only the ack of the heartbeat in flight counts; a stray or repeated
   * sequence is ignored. Returns whether it counted.
   */
  onAck(sequence: bigint): boolean {
    if (!this.state.inFlight || sequence !== this.sequence) return false;
    this.dispatch('acked');
    return true;
  }

  /** For tests and diagnostics. */
  get current(): Readonly<HeartbeatState> & { sequence: bigint } {
    return { ...this.state, sequence: this.sequence };
  }

  private dispatch(event: HeartbeatEvent): void {
    const next = reduceHeartbeat(this.state, event);
    this.state = next.state;
    if (next.send) {
      this.sequence += 1n;
      this.opts.send(create(HeartbeatSchema, { sequence: this.sequence, runningJobs: this.opts.runningJobs() }));
    }
  }
}

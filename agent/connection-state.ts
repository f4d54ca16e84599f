/**
 * The agent's connection as one discriminated union with one setter, after connect-es's
 * Http2SessionManager: every change goes through `set`, which refuses a transition the design does
 * not allow, so a bug in the stream loop surfaces as an error at its cause rather than as an agent
 * that is "ready" without a session.
 */

export type ConnectionState =
  /** Constructed, not started. */
  | { t: 'idle' }
  /** Dialling and waiting for welcome; `attempt` counts from 1 since the last healthy connection. */
  | { t: 'connecting'; attempt: number }
  /** Welcome received; `sessionId` is the coordinator's name for the stream, for logs. */
  | { t: 'ready'; sessionId: string }
  /** Waiting before the next attempt, until `untilMs` (epoch ms). */
  | { t: 'backoff'; untilMs: number }
  /** Final: shut down, or revoked (do not reconnect). */
  | { t: 'closed'; reason: string };

export type ConnectionStateName = ConnectionState['t'];

/**
 * Where each state may go. `ready → connecting` is a planned reconnect without a pause (goodbye
 * with MAX_AGE); every unplanned end goes through `backoff`.
 */
export const CONNECTION_TRANSITIONS: { readonly [K in ConnectionStateName]: readonly ConnectionStateName[] } = {
  idle: ['connecting', 'closed'],
  connecting: ['ready', 'backoff', 'closed'],
  ready: ['connecting', 'backoff', 'closed'],
  backoff: ['connecting', 'closed'],
  closed: [],
};

export class IllegalConnectionTransition extends Error {
  constructor(
    readonly from: ConnectionState,
    readonly to: ConnectionState,
  ) {
    super(`connection cannot go from ${from.t} to ${to.t}`);
    this.name = 'IllegalConnectionTransition';
  }
}

export class Connection {
  private current: ConnectionState = { t: 'idle' };

  /** `onChange` sees every transition, for logging and for tests that wait for a state. */
  constructor(private readonly onChange?: (next: ConnectionState, prev: ConnectionState) => void) {}

  get state(): ConnectionState {
    return this.current;
  }

  /** The one setter. Throws IllegalConnectionTransition and leaves the state as it was. */
  set(next: ConnectionState): void {
    const prev = this.current;
    if (!CONNECTION_TRANSITIONS[prev.t].includes(next.t)) throw new IllegalConnectionTransition(prev, next);
    this.current = next;
    this.onChange?.(next, prev);
  }
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONNECTION_TRANSITIONS,
  Connection,
  IllegalConnectionTransition,
  type ConnectionState,
} from '../../agent/connection-state.js';

const states: ConnectionState[] = [
  { t: 'idle' },
  { t: 'connecting', attempt: 1 },
  { t: 'ready', sessionId: 's-1' },
  { t: 'backoff', untilMs: 1_000 },
  { t: 'closed', reason: 'shutdown' },
];

describe('connection state', () => {
  it('walks the life of a connection through its one setter', () => {
    const seen: string[] = [];
    const c = new Connection((next, prev) => seen.push(`${prev.t}->${next.t}`));
    c.set({ t: 'connecting', attempt: 1 });
    c.set({ t: 'backoff', untilMs: 500 });
    c.set({ t: 'connecting', attempt: 2 });
    c.set({ t: 'ready', sessionId: 'sess-9' });
    expect(c.state).toEqual({ t: 'ready', sessionId: 'sess-9' });
    c.set({ t: 'connecting', attempt: 1 });
    c.set({ t: 'ready', sessionId: 'sess-10' });
    c.set({ t: 'closed', reason: 'revoked' });
    expect(seen).toEqual([
      'idle->connecting',
      'connecting->backoff',
      'backoff->connecting',
      'connecting->ready',
      'ready->connecting',
      'connecting->ready',
      'ready->closed',
    ]);
  });

  it('refuses a ready connection that never connected, and anything after closed', () => {
    const c = new Connection();
    expect(() => c.set({ t: 'ready', sessionId: 's' })).toThrow(new IllegalConnectionTransition({ t: 'idle' }, { t: 'ready', sessionId: 's' }));
    expect(c.state).toEqual({ t: 'idle' });
    c.set({ t: 'closed', reason: 'shutdown' });
    expect(() => c.set({ t: 'connecting', attempt: 1 })).toThrow('connection cannot go from closed to connecting');
    expect(c.state).toEqual({ t: 'closed', reason: 'shutdown' });
  });

  it('only ever holds a state reached by an allowed transition', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...states), { maxLength: 50 }), (attempts) => {
        const c = new Connection();
        for (const next of attempts) {
          const prev = c.state;
          const allowed = CONNECTION_TRANSITIONS[prev.t].includes(next.t);
          if (allowed) c.set(next);
          else expect(() => c.set(next)).toThrow(IllegalConnectionTransition);
          expect(c.state).toBe(allowed ? next : prev);
        }
      }),
    );
  });
});

import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobRefSchema, type Heartbeat, type JobRef } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import {
  Heartbeater,
  INITIAL_HEARTBEAT_STATE,
  reduceHeartbeat,
  type HeartbeatEvent,
} from '../../agent/heartbeat.js';

const ref = (jobId: string, epoch: bigint): JobRef => create(JobRefSchema, { jobId, epoch });

describe('heartbeat reducer', () => {
  it('never has two heartbeats in flight and never loses one that fell due', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<HeartbeatEvent>('due', 'acked'), { maxLength: 200 }), (events) => {
        let state = INITIAL_HEARTBEAT_STATE;
        let inFlight = 0;
        for (const event of events) {
          const dueWhileInFlight = event === 'due' && state.inFlight;
          const ackWithPending = event === 'acked' && state.pending;
          if (event === 'acked' && state.inFlight) inFlight -= 1;
          const next = reduceHeartbeat(state, event);
          if (next.send) inFlight += 1;
          expect(inFlight).toBe(next.state.inFlight ? 1 : 0);
          expect(inFlight).toBeLessThanOrEqual(1);
          // Pending only ever waits behind one in flight, and goes out with the ack it waited for.
          if (next.state.pending) expect(next.state.inFlight).toBe(true);
          if (dueWhileInFlight) expect(next.state.pending).toBe(true);
          if (ackWithPending) expect(next.send).toBe(true);
          state = next.state;
        }
      }),
    );
  });
});

describe('Heartbeater', () => {
  it('keeps at most one heartbeat awaiting its ack, whatever the order of requests and acks', () => {
    type Op = { t: 'request' } | { t: 'ackLatest' } | { t: 'ackStray'; sequence: bigint };
    const op = fc.oneof(
      fc.constant<Op>({ t: 'request' }),
      fc.constant<Op>({ t: 'ackLatest' }),
      fc.bigInt({ min: -2n, max: 50n }).map((sequence): Op => ({ t: 'ackStray', sequence })),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 100 }), (ops) => {
        const sent: bigint[] = [];
        const acked = new Set<bigint>();
        const hb = new Heartbeater({ intervalMs: 1_000, send: (h) => sent.push(h.sequence), runningJobs: () => [] });
        for (const o of ops) {
          if (o.t === 'request') hb.request();
          else if (o.t === 'ackLatest') {
            const latest = sent.at(-1);
            if (latest !== undefined && hb.onAck(latest)) acked.add(latest);
          } else if (hb.onAck(o.sequence)) acked.add(o.sequence);
          expect(sent.filter((s) => !acked.has(s)).length).toBeLessThanOrEqual(1);
        }
        // Sequences count up from 1 without repeats.
        expect(sent).toEqual(sent.map((_, i) => BigInt(i + 1)));
      }),
    );
  });

  describe('on its timer', () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it('sends every interval, coalesces while unacknowledged, and sends the pending one on the ack with the current jobs', () => {
      const sent: Heartbeat[] = [];
      let running = [ref('a', 1n)];
      const hb = new Heartbeater({ intervalMs: 1_000, send: (h) => sent.push(h), runningJobs: () => running });
      hb.start();

      vi.advanceTimersByTime(999);
      expect(sent).toHaveLength(0);
      vi.advanceTimersByTime(1);
      expect(sent.map((h) => [h.sequence, h.runningJobs])).toEqual([[1n, [ref('a', 1n)]]]);

      // Three more intervals without an ack: nothing more goes out, one is pending.
      vi.advanceTimersByTime(3_000);
      expect(sent).toHaveLength(1);
      expect(hb.current).toEqual({ inFlight: true, pending: true, sequence: 1n });

      running = [ref('a', 1n), ref('b', 2n)];
      expect(hb.onAck(1n)).toBe(true);
      expect(sent.map((h) => [h.sequence, h.runningJobs])).toEqual([
        [1n, [ref('a', 1n)]],
        [2n, [ref('a', 1n), ref('b', 2n)]],
      ]);

      expect(hb.onAck(1n)).toBe(false);
      expect(hb.onAck(2n)).toBe(true);
      expect(hb.current).toEqual({ inFlight: false, pending: false, sequence: 2n });
      vi.advanceTimersByTime(1_000);
      expect(sent).toHaveLength(3);

      hb.stop();
      hb.onAck(3n);
      vi.advanceTimersByTime(10_000);
      expect(sent).toHaveLength(3);
    });
  });
});

/**
 * The schedule's pure decision: which slots are due (DST, catch-up after downtime), what the overlap
 * policy makes of them, and that deciding again on the result never fires a slot twice.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decide,
  dueSlots,
  newSchedule,
  nextSlot,
  pause,
  resume,
  runKey,
  validateScheduleSpec,
  withLastRun,
  type ScheduleRecord,
  type ScheduleSpec,
} from '../../src/domain/schedule.js';
import { expectCode, spec } from './helpers.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();
const MINUTE = 60_000;

function scheduleSpec(overrides: Partial<ScheduleSpec> = {}): ScheduleSpec {
  return { name: 'nightly', template: spec(), cron: '0 3 * * *', timeZone: 'UTC', overlap: 'allow', catchUp: 'skip_missed', catchUpLimit: 10, paused: false, ...overrides };
}

function schedule(overrides: Partial<ScheduleSpec> = {}, createdAt = at('2026-01-01T00:00:00Z')): ScheduleRecord {
  return newSchedule(validateScheduleSpec(scheduleSpec(overrides)), 'sch_1', createdAt, 'tester');
}

/** Applies a decision as the ticker does: the fired slots' runs become the last run. */
function applied(s: ScheduleRecord, now: number, active: boolean): { next: ScheduleRecord; fired: number[]; cancelLast: boolean } {
  const d = decide(s, now, active);
  let next = d.next ?? s;
  for (const slot of d.fire) next = withLastRun(next, `job-${iso(slot)}`);
  return { next, fired: d.fire, cancelLast: d.cancelLast };
}

/** Ticks every `step` from the schedule's creation to `until` (no run ever unfinished); the slots fired. */
function tickThrough(first: ScheduleRecord, until: number, step: number): string[] {
  let s = first;
  const fired: string[] = [];
  for (let now = s.createdAt; now <= until; now += step) {
    const r = applied(s, now, false);
    s = r.next;
    fired.push(...r.fired.map(iso));
  }
  return fired;
}

describe('slots and time zones', () => {
  it('reads the cron expression in the schedule time zone', () => {
    expect(iso(nextSlot({ cron: '0 9 * * *', timeZone: 'America/New_York' }, at('2026-07-01T00:00:00Z'))!)).toBe('2026-07-01T13:00:00.000Z');
    expect(iso(nextSlot({ cron: '0 9 * * *', timeZone: 'America/New_York' }, at('2026-12-01T00:00:00Z'))!)).toBe('2026-12-01T14:00:00.000Z');
  });

  it('fires a slot skipped by the spring-forward gap once, at the first time after it', () => {
    // 02:30 does not exist in Berlin on 2026-03-29: the run is at 03:00 CEST (01:00Z), once.
    const fired = tickThrough(schedule({ cron: '30 2 * * *', timeZone: 'Europe/Berlin' }, at('2026-03-28T12:00:00Z')), at('2026-03-31T12:00:00Z'), 10 * MINUTE);
    expect(fired).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z']);
  });

  it('fires a slot in the repeated autumn hour once', () => {
    // 02:30 happens twice in Berlin on 2026-10-25; a daily schedule runs once that day.
    const fired = tickThrough(schedule({ cron: '30 2 * * *', timeZone: 'Europe/Berlin' }, at('2026-10-24T12:00:00Z')), at('2026-10-26T12:00:00Z'), 5 * MINUTE);
    expect(fired.filter((f) => f.startsWith('2026-10-25'))).toHaveLength(1);
  });

  it('derives one idempotency key per slot', () => {
    expect(runKey('sch_1', at('2026-03-29T01:00:00Z'))).toBe('schedule:sch_1:2026-03-29T01:00:00.000Z');
  });
});

describe('catch-up after downtime', () => {
  // Hourly; the coordinator was down from 00:00 to 05:30 (slots 01:00 .. 05:00 missed).
  const down = (catchUp: ScheduleSpec['catchUp'], catchUpLimit = 10) => schedule({ cron: '0 * * * *', catchUp, catchUpLimit }, at('2026-01-01T00:00:00Z'));
  const now = at('2026-01-01T05:30:00Z');

  it('skip_missed drops them and goes on from the next slot', () => {
    const r = applied(down('skip_missed'), now, false);
    expect(r.fired).toEqual([]);
    expect(r.next.cursor).toBe(at('2026-01-01T05:00:00Z'));
    expect(r.next.reason).toMatch(/missed the slot at 2026-01-01T05:00:00.000Z/);
    expect(applied(r.next, at('2026-01-01T06:00:10Z'), false).fired.map(iso)).toEqual(['2026-01-01T06:00:00.000Z']);
  });

  it('run_once fires the latest missed slot once', () => {
    expect(applied(down('run_once'), now, false).fired.map(iso)).toEqual(['2026-01-01T05:00:00.000Z']);
  });

  it('run_all fires every missed slot oldest first, up to the limit (the latest kept)', () => {
    expect(applied(down('run_all'), now, false).fired.map(iso)).toEqual(['01', '02', '03', '04', '05'].map((h) => `2026-01-01T${h}:00:00.000Z`));
    expect(applied(down('run_all', 2), now, false).fired.map(iso)).toEqual(['2026-01-01T04:00:00.000Z', '2026-01-01T05:00:00.000Z']);
  });

  it('a slot seen on time fires under skip_missed', () => {
    expect(dueSlots(down('skip_missed'), at('2026-01-01T01:00:30Z')).fire.map(iso)).toEqual(['2026-01-01T01:00:00.000Z']);
  });
});

describe('overlap policies', () => {
  const hourly = (overlap: ScheduleSpec['overlap']) => ({ ...schedule({ cron: '0 * * * *', overlap }), lastJobId: 'job-prev' });
  const slot = at('2026-01-01T01:00:00Z');

  it('skip: no run while the last is unfinished, and says so', () => {
    const r = applied(hourly('skip'), slot, true);
    expect(r.fired).toEqual([]);
    expect(r.next.reason).toBe('skipped the slot at 2026-01-01T01:00:00.000Z: run job-prev is unfinished (overlap policy skip)');
    expect(applied(r.next, slot + 1000, false).fired).toEqual([]); // the slot is gone, not postponed
  });

  it('queue_one: keeps the earliest slot and fires it once the last run finished', () => {
    let r = applied(hourly('queue_one'), slot, true);
    expect(r.fired).toEqual([]);
    expect(r.next.pendingSlot).toBe(slot);
    r = applied(r.next, at('2026-01-01T02:00:00Z'), true); // a second slot while still running: dropped
    expect(r.next.pendingSlot).toBe(slot);
    r = applied(r.next, at('2026-01-01T02:10:00Z'), false);
    expect(r.fired).toEqual([slot]);
    expect(r.next.pendingSlot).toBeNull();
  });

  it('allow: fires whatever runs', () => {
    expect(applied(hourly('allow'), slot, true).fired).toEqual([slot]);
  });

  it('cancel_running: cancels the last run and fires', () => {
    const r = applied(hourly('cancel_running'), slot, true);
    expect(r).toMatchObject({ fired: [slot], cancelLast: true });
    expect(applied(hourly('cancel_running'), slot, false).cancelLast).toBe(false);
  });

  it('a paused schedule fires nothing, and resumes from now (slots in the pause never fire)', () => {
    const paused = pause(schedule({ cron: '0 * * * *' }), at('2026-01-01T00:10:00Z'))!;
    expect(decide(paused, at('2026-01-01T05:00:00Z'), false).fire).toEqual([]);
    const resumed = resume(paused, at('2026-01-01T05:30:00Z'))!;
    expect(applied(resumed, at('2026-01-01T05:30:00Z'), false).fired).toEqual([]);
    expect(applied(resumed, at('2026-01-01T06:00:01Z'), false).fired.map(iso)).toEqual(['2026-01-01T06:00:00.000Z']);
  });
});

describe('never twice', () => {
  it('fires each slot at most once and never a slot in the future, however the ticks fall', () => {
    const policies = fc.constantFrom('skip_missed' as const, 'run_once' as const, 'run_all' as const);
    const overlaps = fc.constantFrom('skip' as const, 'queue_one' as const, 'allow' as const, 'cancel_running' as const);
    fc.assert(
      fc.property(policies, overlaps, fc.array(fc.tuple(fc.integer({ min: 1, max: 400 * MINUTE }), fc.boolean()), { minLength: 1, maxLength: 30 }), (catchUp, overlap, ticks) => {
        let s = schedule({ cron: '*/7 * * * *', catchUp, overlap, catchUpLimit: 5 }, at('2026-01-01T00:00:00Z'));
        let now = s.createdAt;
        const fired: number[] = [];
        for (const [step, active] of ticks) {
          now += step;
          // Deciding twice on the same record (a second replica) fires the same slots: the keys dedupe.
          const again = decide(s, now, active).fire;
          const r = applied(s, now, active);
          expect(again).toEqual(r.fired);
          for (const slot of r.fired) expect(slot).toBeLessThanOrEqual(now);
          fired.push(...r.fired);
          s = r.next;
        }
        expect(new Set(fired).size).toBe(fired.length);
      }),
    );
  });
});

describe('bad input names the field', () => {
  const refusal = (overrides: Partial<ScheduleSpec>): string => expectCode(() => validateScheduleSpec(scheduleSpec(overrides)), 'invalid_argument').message;
  it('refuses a bad cron, an unknown zone, an unknown policy and a bad limit', () => {
    expect(refusal({ cron: 'every day' })).toMatch(/^cron "every day" is not a valid cron expression/);
    expect(refusal({ cron: '61 * * * *' })).toMatch(/^cron "61 \* \* \* \*" is not a valid cron expression/);
    expect(refusal({ cron: ' ' })).toMatch(/^cron is required/);
    expect(refusal({ timeZone: 'Mars/Olympus' })).toBe('time_zone "Mars/Olympus" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)');
    expect(refusal({ overlap: 'sometimes' as never })).toMatch(/^overlap_policy "sometimes" must be one of skip, queue_one, allow, cancel_running/);
    expect(refusal({ catchUp: 'never' as never })).toMatch(/^catch_up_policy "never"/);
    expect(refusal({ catchUpLimit: 1000 })).toMatch(/^catch_up_limit 1000 must be from 1 to 100/);
  });

  it('refuses template fields that fight the derived key or the schedule', () => {
    expect(refusal({ template: spec({ idempotencyKey: 'k' }) })).toMatch(/^template: idempotency_key must be empty/);
    expect(refusal({ template: spec({ delayMs: 5 }) })).toMatch(/^template: run_at and delay must be unset/);
    expect(refusal({ template: spec({ dependsOn: ['job-x'] }) })).toMatch(/^template: depends_on must be empty/);
    expect(refusal({ template: spec({ command: [] }) })).toMatch(/^template: command must have at least one element/);
  });
});

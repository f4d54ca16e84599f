/**
 * `gigafactory top`'s pure parts: the model takes only newer copies of a job (a snapshot and the
 * live feed may cross) and counts failures of the last hour; a frame fits the width and height it is
 * given; keys quit, focus and filter; a terminal update rewrites only the lines that changed.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { FactorySchema, FactoryState } from '../../gen/ts/gigafactory/fleet/v1/factory_pb.js';
import { JobSchema, JobStage, LeaseSchema } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { allot, fit, renderFrame, span, type FrameView } from '../../src/cli/top-frame.js';
import { pressKey, splitKeys, type KeyState } from '../../src/cli/top-keys.js';
import { FAILURE_WINDOW_MS, TopModel } from '../../src/cli/top-model.js';
import { screenUpdate } from '../../src/cli/top-screen.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');

function job(id: string, stage: JobStage, revision: number, more: MessageInitShape<typeof JobSchema> = {}) {
  return create(JobSchema, { id, productId: 'app', stage, revision: BigInt(revision), ...more });
}

const VIEW: FrameView = { coordinator: 'c:7070', status: 'live', width: 80, height: null, focus: null, filter: '', editing: null, keys: true };

describe('TopModel', () => {
  it('takes a copy of a job only when it is newer than the one it has', () => {
    const model = new TopModel();
    expect(model.take(job('a', JobStage.RUNNING, 5, { startTime: timestampFromMs(NOW - 1000) }), NOW)).toBe(true);
    // A snapshot page read before the job started arrives after the event that started it.
    expect(model.take(job('a', JobStage.QUEUED, 4), NOW)).toBe(false);
    expect(model.running().map((j) => j.id)).toEqual(['a']);
    expect(model.take(job('a', JobStage.SUCCEEDED, 6), NOW)).toBe(true);
    expect(model.take(job('a', JobStage.RUNNING, 5), NOW)).toBe(false);
    expect(model.running()).toEqual([]);
  });

  it('counts queued, scheduled and running per product, and failures of the last hour until they age out', () => {
    const model = new TopModel();
    model.take(job('q', JobStage.QUEUED, 1), NOW);
    model.take(job('later', JobStage.QUEUED, 1, { runAt: timestampFromMs(NOW + 60_000) }), NOW);
    model.take(job('backoff', JobStage.QUEUED, 1, { notBeforeTime: timestampFromMs(NOW + 5_000) }), NOW);
    model.take(job('r', JobStage.LEASED, 1), NOW);
    model.take(job('f', JobStage.FAILED, 3, { endTime: timestampFromMs(NOW - 1000) }), NOW);
    model.take(job('old', JobStage.DEAD, 3, { endTime: timestampFromMs(NOW - FAILURE_WINDOW_MS - 1) }), NOW);
    model.take(job('other', JobStage.QUEUED, 1, { productId: 'web' }), NOW);
    expect(model.products(NOW)).toEqual([
      { productId: 'app', queued: 1, scheduled: 2, blocked: 0, running: 1, review: 0, failedLastHour: 1 },
      { productId: 'web', queued: 1, scheduled: 0, blocked: 0, running: 0, review: 0, failedLastHour: 0 },
    ]);
    expect(model.products(NOW, 'we').map((r) => r.productId)).toEqual(['web']);
    // The back-off ran out: offerable again.
    expect(model.products(NOW + 10_000)[0]).toMatchObject({ queued: 2, scheduled: 1 });
    expect(model.prune(NOW + FAILURE_WINDOW_MS)).toBe(true);
    expect(model.products(NOW + FAILURE_WINDOW_MS)[0]!.failedLastHour).toBe(0);
  });

  it('sums the fleet: slots of the factories still connected or draining', () => {
    const model = new TopModel();
    model.factories = [
      create(FactorySchema, { id: 'a', slots: 4, freeSlots: 1, state: FactoryState.CONNECTED }),
      create(FactorySchema, { id: 'b', slots: 2, freeSlots: 2, state: FactoryState.DRAINING }),
      create(FactorySchema, { id: 'c', slots: 8, freeSlots: 8, state: FactoryState.DISCONNECTED }),
    ];
    expect(model.summary(NOW)).toMatchObject({ connected: 1, draining: 1, disconnected: 1, slots: 6, usedSlots: 3 });
  });
});

describe('renderFrame', () => {
  function busyModel(running: number): TopModel {
    const model = new TopModel();
    model.factories = [create(FactorySchema, { id: 'build-1', slots: running, freeSlots: 0, state: FactoryState.CONNECTED, labels: { os: 'linux', arch: 'x64' }, lastSeenTime: timestampFromMs(NOW - 3000) })];
    for (let i = 0; i < running; i++) {
      model.take(job(`job-${i}`, JobStage.RUNNING, 1, { title: 'x'.repeat(100), cost: i === 0 ? 1.5 : 0, startTime: timestampFromMs(NOW - 125_000), lease: create(LeaseSchema, { factoryId: 'build-1' }) }), NOW);
    }
    return model;
  }

  it('shows every panel and cuts each line to the width, never wrapping it', () => {
    const lines = renderFrame(busyModel(3), NOW, VIEW);
    expect(lines.every((l) => l.length <= 80)).toBe(true);
    expect(lines[0]).toBe(`${'top · c:7070 · 12:00:00 UTC · live'.padEnd(80 - 31)}q quit · / filter · p f j focus`);
    expect(lines).toContain('fleet  1 connected, 0 draining · slots 3/3 used');
    expect(lines).toContain('build-1  connected  3/3    3s ago  arch=x64,os=linux');
    expect(lines.find((l) => l.startsWith('job-0 '))).toMatch(/^job-0 +app +build-1 +2m05s +1\.5 +x+…$/);
    expect(lines.find((l) => l.startsWith('job-1 '))).toMatch(/^job-1 +app +build-1 +2m05s +- +x+…$/);
  });

  it('shortens the panels to the height, saying how many rows it left out', () => {
    const lines = renderFrame(busyModel(30), NOW, { ...VIEW, height: 20 });
    expect(lines).toHaveLength(20);
    expect(lines.at(-1)).toMatch(/^… \d+ more$/);
    const focused = renderFrame(busyModel(30), NOW, { ...VIEW, height: 20, focus: 'jobs' });
    expect(focused.filter((l) => l.startsWith('job-'))).toHaveLength(20 - 3 - 1 - 2 - 1);
    expect(focused.some((l) => l.startsWith('FACTORIES'))).toBe(false);
  });

  it('shows the filter being typed, and job text with its control characters escaped', () => {
    const model = new TopModel();
    model.take(job('j', JobStage.RUNNING, 1, { title: 'evil\u001b[2Jtitle' }), NOW);
    const lines = renderFrame(model, NOW, { ...VIEW, editing: 'ap' });
    expect(lines).toContain('filter products: ap_   (Enter applies, empty clears, Esc cancels)');
    expect(lines.join('\n')).not.toContain('\u001b');
    expect(lines.join('\n')).toContain('evil\\x1b[2Jtitle');
  });

  it('shares rows among panels, the small ones first', () => {
    expect(allot(10, [2, 20, 20])).toEqual([2, 4, 4]);
    expect(allot(100, [2, 3, 1])).toEqual([2, 3, 1]);
    expect(allot(3, [5, 5, 5])).toEqual([1, 1, 1]);
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('abcd', 4)).toBe('abcd');
    expect([span(42_000), span(185_000), span(7_500_000), span(3 * 86_400_000 + 4 * 3_600_000)]).toEqual(['42s', '3m05s', '2h05m', '3d04h']);
  });
});

describe('keys', () => {
  const start: KeyState = { focus: null, filter: '', editing: null };
  const press = (state: KeyState, keys: string): KeyState | 'quit' => {
    let s: KeyState | 'quit' = state;
    for (const key of splitKeys(keys)) s = s === 'quit' ? s : pressKey(s, key);
    return s;
  };

  it('q and Ctrl-C quit; p f j focus a panel and the same key again shows all', () => {
    expect(press(start, 'q')).toBe('quit');
    expect(press(start, '\u0003')).toBe('quit');
    expect(press(start, 'j')).toEqual({ ...start, focus: 'jobs' });
    expect(press(start, 'jj')).toEqual(start);
    expect(press(start, 'pf')).toEqual({ ...start, focus: 'factories' });
    expect(press(start, 'j\u001b')).toEqual(start);
  });

  it('/ types a filter: Enter applies, Backspace deletes, Esc cancels, q is a letter meanwhile', () => {
    expect(press(start, '/aq\u007fpp\r')).toEqual({ ...start, filter: 'app' });
    expect(press({ ...start, filter: 'app' }, '/\u007f\u007f\u007f\n')).toEqual(start);
    expect(press({ ...start, filter: 'app' }, '/web\u001b')).toEqual({ ...start, filter: 'app' });
    // An arrow key is one escape sequence, ignored, not an Esc and two letters.
    expect(splitKeys('\u001b[Ax')).toEqual(['\u001b[A', 'x']);
    expect(press(start, '/a\u001b[Db\r')).toEqual({ ...start, filter: 'ab' });
  });
});

describe('screenUpdate', () => {
  it('draws everything the first time, then only the changed lines, and clears below a shorter frame', () => {
    expect(screenUpdate(null, ['a', 'b'])).toBe('\u001b[H\u001b[2J\u001b[1;1Ha\u001b[K\u001b[2;1Hb\u001b[K');
    expect(screenUpdate(['a', 'b', 'c'], ['a', 'B', 'c'])).toBe('\u001b[2;1HB\u001b[K');
    expect(screenUpdate(['a', 'b'], ['a', 'b'])).toBe('');
    expect(screenUpdate(['a', 'b', 'c'], ['a'])).toBe('\u001b[2;1H\u001b[J');
  });
});

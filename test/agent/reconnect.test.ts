import { describe, expect, it } from 'vitest';
import { ReconnectPolicy } from '../../agent/reconnect.js';

const policy = { baseMs: 100, maxMs: 1_000 };

describe('reconnect policy', () => {
  it('grows the delay exponentially and caps it', () => {
    const r = new ReconnectPolicy({ policy, random: () => 0.5 });
    // Equal jitter at 0.5: three quarters of min(max, base * 2^(n-1)).
    expect(Array.from({ length: 6 }, () => r.nextDelayMs())).toEqual([75, 150, 300, 600, 750, 750]);
    expect(r.failures).toBe(6);
  });

  it('stays within [step / 2, step] for any random number', () => {
    const low = new ReconnectPolicy({ policy, random: () => 0 });
    const high = new ReconnectPolicy({ policy, random: () => 0.999_999 });
    for (let i = 1; i <= 8; i++) {
      const step = Math.min(policy.maxMs, policy.baseMs * 2 ** (i - 1));
      expect(low.nextDelayMs()).toBe(step / 2);
      expect(high.nextDelayMs()).toBe(step);
    }
  });

  it('starts from the base again after a healthy connection', () => {
    const r = new ReconnectPolicy({ policy, random: () => 0.5 });
    r.nextDelayMs();
    r.nextDelayMs();
    expect(r.nextDelayMs()).toBe(300);
    r.reset();
    expect(r.failures).toBe(0);
    expect(r.nextDelayMs()).toBe(75);
  });

  it("never comes back sooner than a goodbye's retry time asks, nor sooner than the back-off", () => {
    const r = new ReconnectPolicy({ policy, random: () => 0.5 });
    expect(r.nextDelayMs(5_000)).toBe(5_000);
    expect(r.nextDelayMs(10)).toBe(150);
  });

  it('backoff() sleeps the delay through the injected sleep and passes the abort signal on', async () => {
    const slept: [number, AbortSignal | undefined][] = [];
    const r = new ReconnectPolicy({
      policy,
      random: () => 0,
      sleep: async (ms, signal) => void slept.push([ms, signal]),
    });
    const signal = new AbortController().signal;
    expect(await r.backoff()).toBe(50);
    expect(await r.backoff({ signal, minDelayMs: 500 })).toBe(500);
    expect(slept).toEqual([
      [50, undefined],
      [500, signal],
    ]);
  });

  it('stops waiting when the agent shuts down', async () => {
    const r = new ReconnectPolicy({ policy: { baseMs: 60_000, maxMs: 60_000 } });
    const controller = new AbortController();
    const waiting = r.backoff({ signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});

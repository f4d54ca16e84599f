/**
 * MessageLanes: a factory stream's messages about different jobs are handled concurrently, those
 * about one job in the order sent, and stream-level messages (barriers) exactly where they were sent.
 */
import { describe, expect, it } from 'vitest';
import { MAX_QUEUED_MESSAGES, MessageLanes } from '../../src/api/message-lanes.js';

/** A handler that records its start and end, and finishes only when the test says so. */
function gated(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const handle = async (): Promise<void> => {
    log.push(`${name} start`);
    await done;
    log.push(`${name} end`);
  };
  return { handle, finish };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('MessageLanes', () => {
  it('runs messages about different jobs at once and those about one job in order', async () => {
    const log: string[] = [];
    const lanes = new MessageLanes(() => undefined);
    const [a1, b1, a2] = [gated(log, 'a1'), gated(log, 'b1'), gated(log, 'a2')];
    await lanes.run('a', a1.handle);
    await lanes.run('b', b1.handle);
    await lanes.run('a', a2.handle);
    await turn();
    expect(log).toEqual(['a1 start', 'b1 start']); // a2 waits for a1; b1 does not
    a1.finish();
    await turn();
    expect(log).toEqual(['a1 start', 'b1 start', 'a1 end', 'a2 start']);
    a2.finish();
    b1.finish();
    await lanes.idle();
    expect(log).toHaveLength(6);
  });

  it('runs a barrier after everything before it and before everything after it', async () => {
    const log: string[] = [];
    const lanes = new MessageLanes(() => undefined);
    const [a, heartbeat, b] = [gated(log, 'a'), gated(log, 'heartbeat'), gated(log, 'b')];
    await lanes.run('a', a.handle);
    const barrier = lanes.run(null, heartbeat.handle);
    await turn();
    expect(log).toEqual(['a start']);
    a.finish();
    await turn();
    expect(log).toEqual(['a start', 'a end', 'heartbeat start']);
    heartbeat.finish();
    await barrier; // the reader of the stream moves on only now
    await lanes.run('b', b.handle);
    await turn();
    expect(log.at(-1)).toBe('b start');
    b.finish();
    await lanes.idle();
  });

  it('reports the first failure once, skips what was queued behind it on that job, and keeps idle() settling', async () => {
    const failures: unknown[] = [];
    const lanes = new MessageLanes((error) => failures.push(error));
    let ranAfter = false;
    await lanes.run('a', async () => {
      throw new Error('log_chunk.stream must be LOG_STREAM_STDOUT or LOG_STREAM_STDERR (job a)');
    });
    await lanes.run('a', async () => void (ranAfter = true));
    await lanes.run('b', async () => {
      throw new Error('second');
    });
    await lanes.idle();
    expect(lanes.failed).toBe(true);
    expect(failures).toHaveLength(1);
    expect((failures[0] as Error).message).toContain('log_chunk.stream');
    expect(ranAfter).toBe(false);
  });

  it('throws a failing barrier to the reader, which ends the stream', async () => {
    const lanes = new MessageLanes(() => undefined);
    await expect(lanes.run(null, async () => Promise.reject(new Error('hello was already received on this stream')))).rejects.toThrow('hello was already received');
    await lanes.idle();
  });
  it('makes the reader wait once MAX_QUEUED_MESSAGES are queued, so a flood is held back, not buffered', async () => {
    const log: string[] = [];
    const lanes = new MessageLanes(() => undefined);
    const held = Array.from({ length: MAX_QUEUED_MESSAGES }, (_, i) => gated(log, `job${i}`));
    for (const [i, message] of held.entries()) await lanes.run(`job${i}`, message.handle); // each returns at once
    const extra = gated(log, 'extra');
    let readerMayGoOn = false;
    const reading = lanes.run('extra', extra.handle).then(() => (readerMayGoOn = true));
    await turn();
    expect(readerMayGoOn).toBe(false); // over the limit: the reader waits for this message
    extra.finish();
    await reading;
    expect(log.at(-1)).toBe('extra end');
    for (const message of held) message.finish();
    await lanes.idle();
    expect(log).toHaveLength(2 * (MAX_QUEUED_MESSAGES + 1));
  });
});

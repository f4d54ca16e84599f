/** The factory stream's send queue: order, waiting for the producer, and how it ends. */
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/api/outbox.js';

async function drain<T>(outbox: Outbox<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of outbox) out.push(m);
  return out;
}

describe('Outbox', () => {
  it('yields what was pushed before and while the consumer waits, in order, until ended', async () => {
    const outbox = new Outbox<number>();
    outbox.push(1);
    const read = drain(outbox);
    await null;
    outbox.push(2);
    outbox.push(3);
    outbox.end();
    outbox.push(4); // after the end: ignored
    expect(await read).toEqual([1, 2, 3]);
    expect(await outbox.next()).toEqual({ value: undefined, done: true });
  });

  it('ended with an error: yields what is queued, then throws it once, then is done', async () => {
    const outbox = new Outbox<string>();
    outbox.push('a');
    outbox.end(new Error('bad message'));
    outbox.end(new Error('a second end is ignored'));
    expect(await outbox.next()).toEqual({ value: 'a', done: false });
    await expect(outbox.next()).rejects.toThrow('bad message');
    expect(await outbox.next()).toEqual({ value: undefined, done: true });
  });

  it('wakes a waiting consumer with the error', async () => {
    const outbox = new Outbox<string>();
    const pending = outbox.next();
    outbox.end(new Error('stream reset'));
    await expect(pending).rejects.toThrow('stream reset');
  });

  it('a consumer that stops early drops the queue, ends a pending read, and later pushes are ignored', async () => {
    const outbox = new Outbox<number>();
    const pending = outbox.next();
    expect(await outbox.return()).toEqual({ value: undefined, done: true });
    expect(await pending).toEqual({ value: undefined, done: true });
    outbox.push(1);
    expect(await outbox.next()).toEqual({ value: undefined, done: true });
    const stopped = new Outbox<number>();
    stopped.push(1);
    stopped.push(2);
    for await (const m of stopped) {
      expect(m).toBe(1);
      break; // for-await calls return()
    }
    expect(await stopped.next()).toEqual({ value: undefined, done: true });
  });

  it('runs onFinished once, where a generator runs finally: after the end was read, or when the consumer stops', async () => {
    const finished: string[] = [];
    const readToEnd = new Outbox<number>(() => finished.push('read to the end'));
    readToEnd.push(1);
    readToEnd.end();
    expect(finished).toEqual([]); // ended, but the consumer has not read the end yet
    expect(await readToEnd.next()).toEqual({ value: 1, done: false });
    expect(finished).toEqual([]);
    expect(await readToEnd.next()).toEqual({ value: undefined, done: true });
    await readToEnd.next();
    await readToEnd.return();
    expect(finished).toEqual(['read to the end']);

    const waitingForError = new Outbox<number>(() => finished.push('error read'));
    const pending = waitingForError.next();
    waitingForError.end(new Error('bad message'));
    await expect(pending).rejects.toThrow('bad message');
    expect(finished).toEqual(['read to the end', 'error read']);

    const stopped = new Outbox<number>(() => finished.push('stopped'));
    stopped.push(1);
    await stopped.return();
    const failed = new Outbox<number>(() => finished.push('failed'));
    await expect(failed.throw(new Error('write failed'))).rejects.toThrow('write failed');
    expect(finished).toEqual(['read to the end', 'error read', 'stopped', 'failed']);
  });

  it('an error thrown in by the consumer ends it and comes back out, as from a generator', async () => {
    const outbox = new Outbox<number>();
    outbox.push(1);
    await expect(outbox.throw(new Error('call failed'))).rejects.toThrow('call failed');
    outbox.push(2);
    expect(await outbox.next()).toEqual({ value: undefined, done: true });
  });

  it("with a bound: the push over it drops the queue and ends with the bound's error at once", async () => {
    let overflows = 0;
    const outbox = new Outbox<number>(null, { messages: 3, overflow: () => (overflows++, new Error('not reading')) });
    for (let i = 0; i < 3; i++) outbox.push(i);
    expect(overflows).toBe(0);
    outbox.push(3);
    outbox.push(4); // ended: ignored, no second overflow
    expect(overflows).toBe(1);
    await expect(outbox.next()).rejects.toThrow('not reading');
    expect(await outbox.next()).toEqual({ value: undefined, done: true });
  });

  it('with a bound: a consumer that keeps up never meets it', async () => {
    const outbox = new Outbox<number>(null, { messages: 1, overflow: () => new Error('never') });
    const read = drain(outbox);
    for (let i = 0; i < 100; i++) {
      outbox.push(i);
      await null;
    }
    outbox.end();
    expect(await read).toHaveLength(100);
  });
});

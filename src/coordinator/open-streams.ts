/**
 * The server-streaming calls open now (WatchJobs, TailLogs), so that shutdown can end them, each
 * API key holds at most `maxPerKey`, and revoking a key ends its streams. Each call follows a signal
 * of its own, aborted by the call's signal, by `closeAll` or by `closeKey`; Sets make adding and
 * removing a call O(1).
 *
 * Why not connect-node's `shutdownSignal`: it links every call (unary ones too) to one AbortSignal
 * with a listener, and Node's EventTarget walks every listener on each add, so with thousands of
 * factory streams open every call paid a walk of thousands. Factory streams end on shutdown through
 * the fleet's goodbye instead.
 */
import { DomainError } from '../domain/errors.js';

export interface FollowerSettings {
  /** WatchJobs and TailLogs streams one API key may have open at once (no bound when absent). */
  maxStreamsPerKey?: number;
}

/** Who opened a stream, when it was an API key. */
export interface StreamOwner {
  keyId: string;
  name: string;
}

export class OpenStreams {
  readonly #open = new Set<AbortController>();
  readonly #byKey = new Map<string, Set<AbortController>>();
  #closed = false;

  constructor(private readonly maxPerKey = Infinity) {}

  /**
   * Yields what `follow` yields, with a signal that aborts when `callSignal` does, at `closeAll`
   * (the stream then ends cleanly) or at `closeKey` (it then ends with that error).
   */
  async *scope<T>(callSignal: AbortSignal, follow: (signal: AbortSignal) => AsyncIterable<T>, owner: StreamOwner | null = null): AsyncGenerator<T> {
    const keyStreams = owner ? this.#streamsOf(owner) : null;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(callSignal.reason);
    if (this.#closed) controller.abort(shuttingDown());
    else if (callSignal.aborted) onAbort();
    callSignal.addEventListener('abort', onAbort, { once: true });
    this.#open.add(controller);
    keyStreams?.add(controller);
    try {
      yield* follow(controller.signal);
    } finally {
      this.#open.delete(controller);
      if (keyStreams) this.#forget(owner!.keyId, keyStreams, controller);
      callSignal.removeEventListener('abort', onAbort);
    }
    // Ended by closeKey: the follower learns why.
    if (controller.signal.reason instanceof DomainError) throw controller.signal.reason;
  }

  /** Ends every open call (they finish cleanly) and any opened later. */
  closeAll(): void {
    this.#closed = true;
    for (const controller of this.#open) controller.abort(shuttingDown());
    this.#open.clear();
  }

  /** Ends the streams opened with this key, each with `reason`; how many. */
  closeKey(keyId: string, reason: DomainError): number {
    const streams = this.#byKey.get(keyId);
    if (!streams) return 0;
    this.#byKey.delete(keyId);
    for (const controller of streams) controller.abort(reason);
    return streams.size;
  }

  /** The keys that have streams open now. */
  keyIds(): string[] {
    return [...this.#byKey.keys()];
  }

  /** Calls open now. */
  get size(): number {
    return this.#open.size;
  }

  #streamsOf(owner: StreamOwner): Set<AbortController> {
    let streams = this.#byKey.get(owner.keyId);
    if (!streams) this.#byKey.set(owner.keyId, (streams = new Set()));
    if (streams.size >= this.maxPerKey) {
      throw new DomainError('resource_exhausted', `API key "${owner.name}" has ${streams.size} streams open, the most one key may; end one first`);
    }
    return streams;
  }

  #forget(keyId: string, streams: Set<AbortController>, controller: AbortController): void {
    streams.delete(controller);
    if (streams.size === 0 && this.#byKey.get(keyId) === streams) this.#byKey.delete(keyId);
  }
}

const shuttingDown = (): Error => new Error('the server is shutting down');

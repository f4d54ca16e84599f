/**
 * The order a factory stream's messages are handled in. Each handled message about a job waits for
 * its store write (a group commit and its WAL sync, several milliseconds), so handling a stream's
 * messages strictly one at a time made a factory with n slots wait for its jobs' writes one after
 * another. Here a message about a job (its lane) waits only for the earlier messages about the same
 * job, so the writes of a factory's jobs share commits; a message about the stream itself (hello,
 * heartbeat, drain) is a barrier: it waits for everything before it, and everything after waits
 * for it. So each job sees its messages in the order sent, and the session sees the stream-level
 * messages exactly where they were sent, as before.
 */
import type { ConnectRequest } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';

/** The job a message is about (its lane), or null for a message about the stream itself (a barrier). */
export function laneOf(message: ConnectRequest): string | null {
  const kind = message.kind;
  switch (kind.case) {
    case 'leaseAccept':
    case 'leaseDecline':
    case 'logChunk':
    case 'jobResult':
    case 'preemptionAck':
      return kind.value.jobId;
    default:
      return null;
  }
}

/**
 * Messages queued but not yet handled, at most. Past it the reader waits, so a factory that sends
 * faster than the store keeps up (a log flood without a rate limit) is slowed by HTTP/2 flow
 * control instead of growing the coordinator's memory.
 */
export const MAX_QUEUED_MESSAGES = 64;

export class MessageLanes {
  /** Lane messages queued or running. */
  #queued = 0;
  /** The last message queued per job, while it is running or waiting. */
  readonly #lanes = new Map<string, Promise<void>>();
  /** The last barrier: messages queued after it start only when it is done. */
  #barrier: Promise<void> = Promise.resolve();
  #failed = false;

  /** `onFailure` is called once, with the first error a handled message threw. */
  constructor(private readonly onFailure: (error: unknown) => void) {}

  /** True once a handled message threw: the stream is ending, read nothing more. */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * Queues `handle` on `lane` (a job id), or as a barrier when `lane` is null. Resolves when the
   * next message may be read: at once for a lane (once it ran, when MAX_QUEUED_MESSAGES are
   * queued), after the barrier ran for a barrier (whose error it throws, as the stream then ends).
   */
  async run(lane: string | null, handle: () => Promise<void>): Promise<void> {
    if (lane === null) {
      this.#barrier = this.idle().then(handle);
      return this.#barrier;
    }
    const running = this.#lanes.get(lane) ?? this.#barrier;
    // Once a message failed the stream is ending: what was queued behind it is not handled.
    const next = running.then(() => (this.#failed ? undefined : handle())).catch((error: unknown) => this.#fail(error));
    this.#queued++;
    this.#lanes.set(lane, next);
    const settled = next.then(() => {
      this.#queued--;
      if (this.#lanes.get(lane) === next) this.#lanes.delete(lane); // nothing queued behind it
    });
    if (this.#queued > MAX_QUEUED_MESSAGES) await settled;
  }

  /** Resolves when every message queued so far was handled (failures are reported, not thrown). */
  async idle(): Promise<void> {
    await this.#barrier.catch(() => undefined);
    await Promise.all(this.#lanes.values());
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.onFailure(error);
  }
}

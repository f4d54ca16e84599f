/**
 * The tracker echo outbox: every event of a job made from a tracker item (job.tracker set) is a
 * delivery owed to the tracker. A provider records it in the same atomic write as the event itself
 * (SQLite: the same transaction; memory: the same call; Cosmos: see cosmos-echo-outbox.ts), so a
 * crash can never keep the job change and lose its echo. Deliveries are identified by their event id
 * `<job id>:<revision>`, which never changes across retries.
 *
 * Delivery is claim → send → settle. A claim leases an entry to one sender until `claimUntil` (after
 * which it is due again, so a sender that died mid-send is covered); retry and dead are accepted only
 * from the current claimant, and delivered from anyone (it is true whoever says it).
 */
import type { JobEventRecord, JobRecord } from '../domain/job.js';

export type EchoState = 'pending' | 'delivered' | 'dead';

/** One owed delivery, as claimed by a sender. */
export interface EchoDelivery {
  /** `<jobId>:<revision>`: the receiver's deduplication key. */
  eventId: string;
  jobId: string;
  productId: string;
  revision: number;
  externalId: string;
  externalUrl: string;
  event: JobEventRecord;
  /** Failed attempts before this one. */
  attempts: number;
  /** When the event happened (the age limit counts from here). */
  createdAt: number;
  /** The claim this delivery was handed out under. */
  claim: string;
}

export type EchoSettlement = { state: 'delivered' } | { state: 'retry'; dueAt: number; error: string } | { state: 'dead'; error: string };

export interface EchoBacklog {
  pending: number;
  dead: number;
  /** When the oldest pending event happened; null when none is pending. */
  oldestPendingAt: number | null;
}

export interface EchoOutbox {
  /**
   * Up to `limit` pending deliveries due at `now`, soonest due first, each claimed under `claim`
   * until `claimUntil` (not handed out again before then).
   */
  claimDueEchoes(now: number, limit: number, claimUntil: number, claim: string): Promise<EchoDelivery[]>;
  /** Records the outcome; false when it was refused (retry or dead from a sender whose claim lapsed). */
  settleEcho(delivery: EchoDelivery, settlement: EchoSettlement): Promise<boolean>;
  /** Pending and dead counts, for metrics. */
  echoBacklog(): Promise<EchoBacklog>;
}

/** The delivery a committed event owes, or null when its job did not come from a tracker. */
export function echoFor(job: JobRecord, event: JobEventRecord): Omit<EchoDelivery, 'claim'> | null {
  if (!job.tracker) return null;
  return {
    eventId: echoEventId(event.jobId, event.revision),
    jobId: event.jobId,
    productId: event.productId,
    revision: event.revision,
    externalId: job.tracker.externalId,
    externalUrl: job.tracker.url,
    event,
    attempts: 0,
    createdAt: event.at,
  };
}

export function echoEventId(jobId: string, revision: number): string {
  return `${jobId}:${revision}`;
}

/** A store whose provider keeps an echo outbox (SQLite, memory and Cosmos do). */
export interface WithEchoOutbox {
  readonly echoOutbox: EchoOutbox;
}

/** The store's outbox, when its provider keeps one. */
export function echoOutboxOf(store: unknown): EchoOutbox | null {
  return (store as Partial<WithEchoOutbox> | null)?.echoOutbox ?? null;
}

/** `outbox` with its store's closed check in front of every call, so a closed store refuses alike. */
export function guardedOutbox(outbox: EchoOutbox, assertOpen: () => void): EchoOutbox {
  return {
    claimDueEchoes: async (now, limit, claimUntil, claim) => {
      assertOpen();
      return outbox.claimDueEchoes(now, limit, claimUntil, claim);
    },
    settleEcho: async (delivery, settlement) => {
      assertOpen();
      return outbox.settleEcho(delivery, settlement);
    },
    echoBacklog: async () => {
      assertOpen();
      return outbox.echoBacklog();
    },
  };
}

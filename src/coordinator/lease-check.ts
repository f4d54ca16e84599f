/**
 * LeaseService.Check: whether a lease token still names its job's current lease. The job is read
 * from the store, not from this replica's lease book, so any replica answers for a lease another
 * one granted, and a lease that lapsed is refused even before the reaper has requeued its job.
 */
import type { LeaseClaims } from '../domain/lease-token.js';
import { staleLeaseReason } from '../domain/lease-token.js';
import type { JobStore } from '../store/job-store.js';
import type { Clock } from './clock.js';
import type { LeaseKeys } from './lease-keys.js';

export interface LeaseVerdict {
  current: boolean;
  /** Why not current; '' when current. */
  reason: string;
  /** Set once the signature verified. */
  claims: LeaseClaims | null;
  /** The job's epoch in the store (0 when not read or not found). */
  currentEpoch: number;
}

export async function checkLease(keys: LeaseKeys, store: Pick<JobStore, 'getJob'>, clock: Clock, token: string): Promise<LeaseVerdict> {
  const verified = await keys.verify(token);
  if (verified.t === 'unverified') return { current: false, reason: verified.reason, claims: null, currentEpoch: 0 };
  const { claims } = verified;
  const job = await store.getJob(claims.jobId);
  const reason = staleLeaseReason(claims, job, clock.now());
  return { current: reason === null, reason: reason ?? '', claims, currentEpoch: job?.epoch ?? 0 };
}

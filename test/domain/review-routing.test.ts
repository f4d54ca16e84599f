/**
 * Review routing (N of M): reviewers and groups resolve at submit; each ShipJob by an eligible
 * reviewer records an approval and the job ships with the Nth; ineligible callers and forbidden
 * self-approval are PERMISSION_DENIED naming why; any eligible reviewer rejects; a requeue clears
 * the approvals; bad routing (N = 0, N > M, an unknown group) is INVALID_ARGUMENT naming the field.
 */
import { describe, expect, it } from 'vitest';
import type { JobRecord, JobSpec } from '../../src/domain/job.js';
import { complete, reject, requeue, ship, type AttemptReport } from '../../src/domain/lifecycle.js';
import { emptyReviewPolicy, reviewSummary, validateReviewPolicy, withReviewRouting, type ReviewPolicy } from '../../src/domain/review.js';
import { domainError, expectCode, RETRY, running, T0 } from './helpers.js';

const ok: AttemptReport = { outcome: 'succeeded', exitCode: 0, message: 'green' };
const policy: ReviewPolicy = { groups: { release: ['carol', 'dave'] }, defaultReviewers: ['group:release'], defaultRequiredApprovals: 1, forbidSelfApproval: true };

function routed(overrides: Partial<JobSpec>, submitter = 'erin', p: ReviewPolicy | null = policy): Partial<JobSpec> {
  return withReviewRouting({ productId: 'web', title: '', command: ['true'], env: {}, requiredLabels: [], priority: 0, idempotencyKey: '', maxAttempts: 3, timeoutMs: 0, ...overrides }, p, submitter);
}

/** A job whose work succeeded, waiting for its routed review. */
function awaiting(overrides: Partial<JobSpec>, submitter = 'erin'): JobRecord {
  return complete(running('f1', routed(overrides, submitter)), 'f1', 1, ok, T0 + 5, RETRY, 0).job;
}

describe('routing at submit', () => {
  it('expands groups, sorts the eligible, and implies require_review', () => {
    const { review, requireReview, reviewers } = routed({ reviewers: ['alice', 'group:release', 'bob'], requiredApprovals: 2 });
    expect(requireReview).toBe(true);
    expect(reviewers).toBeUndefined(); // consumed into the routing
    expect(review).toEqual({ reviewers: ['alice', 'group:release', 'bob'], eligible: ['alice', 'bob', 'carol', 'dave'], required: 2, submittedBy: 'erin', selfApproval: false, approvals: [] });
  });

  it('uses the product defaults for a job that requires review and names nobody', () => {
    expect(routed({ requireReview: true }).review).toMatchObject({ reviewers: ['group:release'], eligible: ['carol', 'dave'], required: 1 });
    expect(routed({ requireReview: true }, 'erin', null).review).toBeUndefined(); // no policy: any operator ships
    expect(routed({}).review).toBeUndefined(); // no review at all
  });

  it('refuses N = 0, N > M, an unknown group, and N the others cannot reach without self-approval', () => {
    expect(domainError(() => routed({ reviewers: ['alice'], requiredApprovals: 0 })).message).toBe('required_approvals 0 must be at least 1');
    expect(domainError(() => routed({ reviewers: ['alice', 'bob'], requiredApprovals: 3 })).message).toBe('required_approvals 3 is more than the 2 eligible reviewers (alice, bob)');
    expect(domainError(() => routed({ reviewers: ['alice', 'group:qa'] })).message).toBe('reviewers[1]: group qa is not defined for product web (known: release)');
    expect(domainError(() => routed({ reviewers: ['alice', 'erin'], requiredApprovals: 2 })).message).toBe(
      'required_approvals 2 is more than the 1 reviewers other than the submitter erin (product web forbids approving your own submission)',
    );
    expect(domainError(() => routed({ reviewers: ['not a name'] })).message).toMatch(/^reviewers\[0\]: "not a name" is not an API key name/);
    expect(domainError(() => routed({ requiredApprovals: 2 }, 'erin', null)).message).toBe('required_approvals needs reviewers (name them, or give the product default reviewers)');
  });

  it('validates a policy: known members, defaults that route', () => {
    expect(validateReviewPolicy(policy, 'review_policy', 'web')).toBe(policy);
    expect(domainError(() => validateReviewPolicy({ ...emptyReviewPolicy(), defaultReviewers: ['group:nope'] }, 'review_policy', 'web')).message).toBe(
      "review_policy: the product's default_reviewers[0]: group nope is not defined for product web (it has no reviewer groups)",
    );
    expect(domainError(() => validateReviewPolicy({ ...emptyReviewPolicy(), groups: { empty: [] } }, 'review_policy', 'web')).message).toBe('review_policy.groups: group empty has no members');
    expect(domainError(() => validateReviewPolicy({ ...emptyReviewPolicy(), defaultRequiredApprovals: 2 }, 'review_policy', 'web')).message).toBe('review_policy.default_required_approvals needs default_reviewers');
  });
});

describe('approvals', () => {
  it('records each approval and ships with the Nth; the reason says who is still needed', () => {
    let job = awaiting({ reviewers: ['alice', 'bob', 'group:release'], requiredApprovals: 3 });
    expect(job.reason).toBe('waiting for review: 0 of 3 approvals; still needed: 3 of alice, bob, carol, dave');
    const first = ship(job, T0 + 6, 'alice', 'lgtm')!;
    job = first.job;
    expect(first.event).toMatchObject({ kind: 'approved', actor: 'alice', toStage: 'awaiting_review', message: '1 of 3 approvals: alice ✓; still needed: 2 of bob, carol, dave (lgtm)' });
    expect(ship(job, T0 + 7, 'alice', 'again')).toBeNull(); // a repeated approval changes nothing
    job = ship(job, T0 + 8, 'bob', '')!.job;
    expect(reviewSummary(job.review!)).toBe('2 of 3 approvals: alice ✓, bob ✓; still needed: 1 of carol, dave');
    const last = ship(job, T0 + 9, 'dave', '')!;
    expect(last.job).toMatchObject({ stage: 'shipped', endedAt: T0 + 9, reason: 'shipped: 3 of 3 approvals: alice ✓, bob ✓, dave ✓' });
    expect(last.job.review!.approvals).toEqual([
      { by: 'alice', at: T0 + 6, note: 'lgtm' },
      { by: 'bob', at: T0 + 8, note: '' },
      { by: 'dave', at: T0 + 9, note: '' },
    ]);
  });

  it('refuses a caller who is not a reviewer, and the submitter when the product forbids it', () => {
    const job = awaiting({ reviewers: ['alice', 'erin'], requiredApprovals: 1 });
    expect(expectCode(() => ship(job, T0 + 6, 'mallory', ''), 'permission_denied').message).toBe(`mallory is not a reviewer of job ${job.id} and cannot approve it (reviewers: alice, erin)`);
    expect(expectCode(() => ship(job, T0 + 6, 'erin', ''), 'permission_denied').message).toBe(
      `erin submitted job ${job.id} and its product does not allow approving your own submission; still needed: 1 of alice`,
    );
    const allowed = complete(running('f1', routed({ reviewers: ['erin'] }, 'erin', { ...policy, forbidSelfApproval: false })), 'f1', 1, ok, T0 + 5, RETRY, 0).job;
    expect(ship(allowed, T0 + 6, 'erin', '')!.job.stage).toBe('shipped');
  });

  it('any eligible reviewer rejects; others are refused; a requeue clears the approvals', () => {
    const job = awaiting({ reviewers: ['alice', 'bob'], requiredApprovals: 2 });
    const approved = ship(job, T0 + 6, 'alice', '')!.job;
    expect(expectCode(() => reject(approved, T0 + 7, 'mallory', 'no'), 'permission_denied').message).toMatch(/^mallory is not a reviewer of job .* and cannot reject it/);
    expect(reject(approved, T0 + 7, 'bob', 'broken').job).toMatchObject({ stage: 'rejected', reason: 'rejected: broken' });
    expect(requeue(approved, T0 + 8, 'alice', '').job.review!.approvals).toEqual([]);
  });
});

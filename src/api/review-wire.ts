/** Review routing on the wire: a job's JobReview, and a product's ReviewPolicy both ways. */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { ReviewPolicySchema, ReviewerGroupSchema, type ReviewPolicy as WireReviewPolicy } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { JobReviewSchema, ReviewApprovalSchema, type JobReview } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { invalidArgument } from '../domain/errors.js';
import { isEmptyPolicy, pendingReviewers, reviewSummary, validateReviewPolicy, type ReviewPolicy, type ReviewRouting } from '../domain/review.js';

export function reviewToWire(review: ReviewRouting): JobReview {
  return create(JobReviewSchema, {
    reviewers: review.reviewers,
    eligibleReviewers: review.eligible,
    requiredApprovals: review.required,
    approvals: review.approvals.map((a) => create(ReviewApprovalSchema, { reviewer: a.by, time: timestampFromMs(a.at), note: a.note })),
    pendingReviewers: pendingReviewers(review),
    submittedBy: review.submittedBy,
    selfApprovalAllowed: review.selfApproval,
    summary: reviewSummary(review),
  });
}

export function reviewPolicyToWire(policy: ReviewPolicy): WireReviewPolicy {
  return create(ReviewPolicySchema, {
    groups: Object.entries(policy.groups).map(([name, members]) => create(ReviewerGroupSchema, { name, members })),
    defaultReviewers: policy.defaultReviewers,
    defaultRequiredApprovals: policy.defaultRequiredApprovals,
    forbidSelfApproval: policy.forbidSelfApproval,
  });
}

/** The policy a SetProductSettings call asks for, validated; null for an empty one (no policy). */
export function reviewPolicyFromWire(wire: WireReviewPolicy, productId: string): ReviewPolicy | null {
  const groups: Record<string, string[]> = {};
  for (const group of wire.groups) {
    if (Object.hasOwn(groups, group.name)) throw invalidArgument(`review_policy.groups: group ${group.name.slice(0, 64)} is given twice`);
    groups[group.name] = [...new Set(group.members)];
  }
  const policy: ReviewPolicy = { groups, defaultReviewers: [...wire.defaultReviewers], defaultRequiredApprovals: wire.defaultRequiredApprovals, forbidSelfApproval: wire.forbidSelfApproval };
  return isEmptyPolicy(policy) ? null : validateReviewPolicy(policy, 'review_policy', productId);
}

/**
 * Review routing: a job's review gate names its reviewers (API key names, or groups of the
 * product's review policy) and how many of them must approve (N of M). Each ShipJob by an eligible
 * reviewer records an approval; the job ships when N are in. RejectJob by any eligible reviewer
 * rejects it. A product may forbid approving your own submission. Pure: the coordinator supplies
 * the policy (product settings), the submitter and the caller.
 */
import { DomainError, forItem, invalidArgument } from './errors.js';
import type { JobSpec } from './job.js';

/** A product's review policy (stored with its settings). */
export interface ReviewPolicy {
  /** Group name → API key names; a submit names a group as "group:<name>". */
  groups: Record<string, string[]>;
  /** Reviewers of a job that requires review and names none; empty: any operator ships it. */
  defaultReviewers: string[];
  /** Approvals a job needs when its submit does not say; 0 means 1. */
  defaultRequiredApprovals: number;
  forbidSelfApproval: boolean;
}

export interface Approval {
  by: string;
  at: number;
  note: string;
}

/** A job's review routing, fixed at submit (groups expanded then), plus the approvals recorded. */
export interface ReviewRouting {
  /** As named at submit (or the product's defaults). */
  reviewers: string[];
  /** API key names that may approve or reject, sorted. */
  eligible: string[];
  required: number;
  submittedBy: string;
  /** False when the product forbids approving your own submission. */
  selfApproval: boolean;
  approvals: Approval[];
}

/** What a submit asks for, before the product's policy fills in defaults. */
export interface ReviewRequest {
  productId: string;
  requireReview?: boolean;
  reviewers?: string[];
  requiredApprovals?: number;
}

export const GROUP_PREFIX = 'group:';
const REVIEWER = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_REVIEWERS = 100;

export function emptyReviewPolicy(): ReviewPolicy {
  return { groups: {}, defaultReviewers: [], defaultRequiredApprovals: 0, forbidSelfApproval: false };
}

/** Whether the policy says anything (an empty one is stored as none). */
export function isEmptyPolicy(policy: ReviewPolicy): boolean {
  return Object.keys(policy.groups).length === 0 && policy.defaultReviewers.length === 0 && policy.defaultRequiredApprovals === 0 && !policy.forbidSelfApproval;
}

/** Checks a policy an operator sets; INVALID_ARGUMENT naming the field. */
export function validateReviewPolicy(policy: ReviewPolicy, field: string, productId: string): ReviewPolicy {
  for (const [name, members] of Object.entries(policy.groups)) {
    if (!GROUP.test(name)) throw invalidArgument(`${field}.groups: name "${name.slice(0, 40)}" must be 1-64 letters, digits, ".", "_" or "-"`);
    if (members.length === 0) throw invalidArgument(`${field}.groups: group ${name} has no members`);
    members.forEach((m, i) => forItem(`${field}.groups[${name}].members[${i}]`, () => checkKeyName(m)));
  }
  if (policy.defaultRequiredApprovals > MAX_REVIEWERS) throw invalidArgument(`${field}.default_required_approvals ${policy.defaultRequiredApprovals} must be at most ${MAX_REVIEWERS}`);
  if (policy.defaultReviewers.length > 0) {
    // The defaults must route: the same checks as a submit naming them.
    forItem(field, () => routeReview({ productId, requireReview: true }, policy, ''));
  } else if (policy.defaultRequiredApprovals > 0) {
    throw invalidArgument(`${field}.default_required_approvals needs default_reviewers`);
  }
  return policy;
}

/**
 * The routing of a job as submitted, or null when it has none (no review, or review by any operator).
 * Reviewers named on the submit, else the product's defaults; groups are expanded now, so a later
 * change of a group does not move the goalposts of a job already waiting. Throws INVALID_ARGUMENT
 * for an unknown group, N = 0, N > M, or N more than can approve when self-approval is forbidden.
 */
export function routeReview(request: ReviewRequest, policy: ReviewPolicy | null, submittedBy: string): ReviewRouting | null {
  const named = request.reviewers ?? [];
  const usesDefaults = named.length === 0;
  const reviewers = usesDefaults ? (request.requireReview ? (policy?.defaultReviewers ?? []) : []) : named;
  if (reviewers.length === 0) {
    if (request.requiredApprovals !== undefined) throw invalidArgument('required_approvals needs reviewers (name them, or give the product default reviewers)');
    return null;
  }
  const where = usesDefaults ? 'the product\'s default_reviewers' : 'reviewers';
  if (reviewers.length > MAX_REVIEWERS) throw invalidArgument(`${where}: at most ${MAX_REVIEWERS} reviewers, got ${reviewers.length}`);
  const eligible = new Set<string>();
  reviewers.forEach((reviewer, i) => forItem(`${where}[${i}]`, () => expand(reviewer, policy, request.productId).forEach((name) => eligible.add(name))));
  const required = request.requiredApprovals ?? (policy?.defaultRequiredApprovals || 1);
  const field = request.requiredApprovals !== undefined ? 'required_approvals' : 'the product\'s default_required_approvals';
  const names = [...eligible].sort();
  if (required < 1) throw invalidArgument(`${field} ${required} must be at least 1`);
  if (required > names.length) throw invalidArgument(`${field} ${required} is more than the ${names.length} eligible reviewers (${names.join(', ')})`);
  const selfApproval = !(policy?.forbidSelfApproval ?? false);
  const able = selfApproval ? names : names.filter((n) => n !== submittedBy);
  if (required > able.length) {
    throw invalidArgument(`${field} ${required} is more than the ${able.length} reviewers other than the submitter ${submittedBy} (product ${request.productId} forbids approving your own submission)`);
  }
  return { reviewers: [...reviewers], eligible: names, required, submittedBy, selfApproval, approvals: [] };
}

function expand(reviewer: string, policy: ReviewPolicy | null, productId: string): string[] {
  if (!reviewer.startsWith(GROUP_PREFIX)) return [checkKeyName(reviewer)];
  const group = reviewer.slice(GROUP_PREFIX.length);
  const members = policy?.groups[group];
  if (!members) {
    const known = Object.keys(policy?.groups ?? {}).sort();
    throw invalidArgument(`group ${group.slice(0, 64)} is not defined for product ${productId} (${known.length ? `known: ${known.join(', ')}` : 'it has no reviewer groups'})`);
  }
  return members;
}

function checkKeyName(name: string): string {
  if (!REVIEWER.test(name)) throw invalidArgument(`"${name.slice(0, 40)}" is not an API key name (1-64 letters, digits, ".", "_", "@" or "-") nor "group:<name>"`);
  return name;
}

/** Eligible reviewers who have not approved and may (the submitter left out when self-approval is forbidden). */
export function pendingReviewers(review: ReviewRouting): string[] {
  const approved = new Set(review.approvals.map((a) => a.by));
  return review.eligible.filter((n) => !approved.has(n) && (review.selfApproval || n !== review.submittedBy));
}

/** "2 of 3 approvals: alice ✓, bob ✓; still needed: 1 of carol, dave". */
export function reviewSummary(review: ReviewRouting): string {
  const got = review.approvals.length;
  const head = `${got} of ${review.required} approvals${got > 0 ? `: ${review.approvals.map((a) => `${a.by} ✓`).join(', ')}` : ''}`;
  const left = review.required - got;
  return left > 0 ? `${head}; still needed: ${left} of ${pendingReviewers(review).join(', ')}` : head;
}

/** PERMISSION_DENIED naming why, unless `actor` may approve: eligible, not the submitter when that is forbidden. */
export function assertMayApprove(review: ReviewRouting, jobId: string, actor: string): void {
  assertEligible(review, jobId, actor, 'approve');
  if (!review.selfApproval && actor === review.submittedBy) {
    throw new DomainError('permission_denied', `${actor} submitted job ${jobId} and its product does not allow approving your own submission; still needed: ${review.required - review.approvals.length} of ${pendingReviewers(review).join(', ')}`);
  }
}

/** PERMISSION_DENIED unless `actor` is one of the job's eligible reviewers. */
export function assertEligible(review: ReviewRouting, jobId: string, actor: string, action: 'approve' | 'reject'): void {
  if (!review.eligible.includes(actor)) {
    throw new DomainError('permission_denied', `${actor} is not a reviewer of job ${jobId} and cannot ${action} it (reviewers: ${review.eligible.join(', ')})`);
  }
}

/** The routing with `actor`'s approval added; null when they had approved already (nothing changes). */
export function withApproval(review: ReviewRouting, actor: string, now: number, note: string): ReviewRouting | null {
  if (review.approvals.some((a) => a.by === actor)) return null;
  return { ...review, approvals: [...review.approvals, { by: actor, at: now, note }] };
}

/**
 * The spec with its review routing resolved (`review` set, the raw reviewers and required approvals
 * consumed); a spec already routed is returned as it is.
 */
export function withReviewRouting(spec: JobSpec, policy: ReviewPolicy | null, submittedBy: string): JobSpec {
  if (spec.review) return spec;
  const { reviewers: _reviewers, requiredApprovals: _required, ...rest } = spec;
  const review = routeReview(spec, policy, submittedBy);
  return review ? { ...rest, requireReview: true, review } : rest;
}

/**
 * A job's review routing on its page: how many approvals it needs of whom, who approved (when, with
 * what note), and who is still needed, e.g. "2 of 3 approvals: alice ✓, bob ✓; still needed: 1 of
 * carol, dave". The server keeps the record; this only shows it.
 */
import type { JSX } from 'preact';
import type { JobReview } from '../../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { absoluteTime, ms } from '../format.js';
import { Panel } from './ui.js';

export function ReviewPanel({ review, awaiting }: { review: JobReview; awaiting: boolean }): JSX.Element {
  const needed = Math.max(0, review.requiredApprovals - review.approvals.length);
  return (
    <Panel title="Review" aside={<span class="muted small">{review.requiredApprovals} of {review.eligibleReviewers.length} reviewers must approve</span>}>
      <div class="review-body">
        <p class="review-summary" data-review-summary>
          {review.summary}
        </p>
        <ul class="review-list">
          {review.approvals.map((a) => (
            <li key={a.reviewer} class="review-approved">
              <span class="text-succeeded strong">✓ {a.reviewer}</span>
              <span class="muted small"> approved {ms(a.time) !== null ? absoluteTime(ms(a.time)!) : ''}</span>
              {a.note && <span class="small"> — {a.note}</span>}
            </li>
          ))}
          {awaiting && needed > 0 && (
            <li class="review-pending">
              <span class="strong">Still needed: {needed}</span> <span class="muted">of {review.pendingReviewers.join(', ')}</span>
            </li>
          )}
        </ul>
        <p class="muted small">
          Reviewers: {review.reviewers.join(', ')}
          {review.reviewers.some((r) => r.startsWith('group:')) && ` (${review.eligibleReviewers.join(', ')})`}. Submitted by {review.submittedBy || 'an unnamed caller'}
          {review.selfApprovalAllowed ? '.' : ', who may not approve it.'}
        </p>
      </div>
    </Panel>
  );
}

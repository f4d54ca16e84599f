/**
 * What can be done to the selected jobs at once: cancel those still waiting or running, requeue
 * those that ended badly (or await review). Each job is one RPC; the outcome is one sentence that
 * names the jobs the coordinator refused and why.
 */
import type { JSX } from 'preact';
import type { Job } from '../../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { describeError } from '../errors.js';
import { isFinal, plural, REQUEUABLE } from '../format.js';
import { jobService } from '../rpc.js';
import { ConfirmAction } from './confirm.js';

export function BulkActions({ jobs, onDone }: { jobs: Job[]; onDone: () => void }): JSX.Element {
  const cancellable = jobs.filter((job) => !isFinal(job.stage) && !job.cancelRequestTime);
  const requeuable = jobs.filter((job) => REQUEUABLE.has(job.stage));
  return (
    <div class="bulk-bar" role="region" aria-label="Selected jobs">
      <span class="strong">{plural(jobs.length, 'job')} selected</span>
      <ConfirmAction
        label={`Cancel ${cancellable.length}`}
        rpc="JobService/CancelJob"
        title={`Cancel ${plural(cancellable.length, 'job')}`}
        description="Running jobs are stopped by their factories (SIGTERM, then SIGKILL after the grace period); waiting ones will not run. Jobs that already ended are left alone."
        reasonPlaceholder="Reason (recorded on each job)"
        doing="cancel the selected jobs"
        danger
        small
        disabled={!cancellable.length}
        onConfirm={async (reason) => {
          await each(cancellable, 'cancel', (job) => jobService.cancelJob({ jobId: job.id, reason: reason || 'cancelled from the web control plane' }));
          onDone();
        }}
      />
      <ConfirmAction
        label={`Requeue ${requeuable.length}`}
        rpc="JobService/RequeueJob"
        title={`Requeue ${plural(requeuable.length, 'job')}`}
        description="Failed, dead, cancelled, rejected and reviewed jobs go back to the queue with a fresh allowance of attempts. Others are left alone."
        reasonPlaceholder="Note (optional, recorded on each job)"
        doing="requeue the selected jobs"
        small
        disabled={!requeuable.length}
        onConfirm={async (reason) => {
          await each(requeuable, 'requeue', (job) => jobService.requeueJob({ jobId: job.id, reason }));
          onDone();
        }}
      />
      <button type="button" class="button button-ghost button-small" onClick={onDone}>
        Clear selection
      </button>
    </div>
  );
}

/** Runs `call` for every job at once; throws one sentence naming each refusal. */
async function each(jobs: Job[], verb: string, call: (job: Job) => Promise<unknown>): Promise<void> {
  const results = await Promise.allSettled(jobs.map(call));
  const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [`${jobs[i]!.id}: ${describeError(r.reason, `${verb} it`)}`] : []));
  if (refused.length) throw new Error(`${plural(jobs.length - refused.length, 'job')} done; ${refused.length} refused. ${refused.join(' ')}`);
}

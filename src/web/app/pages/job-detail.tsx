/**
 * One job: what it is, where it is, every attempt (factory, epoch, timing, outcome), its history of
 * events and its output, all live: WatchJobs for this job (history replayed first) and TailLogs with
 * follow. While it waits or runs, where it could go and why (ExplainScore); each attempt keeps the
 * score that won its dispatch. The workflow around it (GetDag) is drawn when it has one, and the
 * actions its stage allows (cancel, requeue, ship, reject) are offered, disabled for a key whose role
 * may not take them.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Code, ConnectError } from '@connectrpc/connect';
import { JobStage, type Attempt, type Job, type JobEvent } from '../../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { LogView, type LogStatus } from '../components/log-view.js';
import { Chips, CopyButton, Empty, ErrorBanner, OutcomeBadge, Panel, StageBadge, useNow, When } from '../components/ui.js';
import { describeError, sentence } from '../errors.js';
import { ConfirmAction } from '../components/confirm.js';
import { DagPanel } from '../components/dag-graph.js';
import { ArtifactsPanel } from '../components/artifacts-panel.js';
import { PlacementPanel, ScoreBar, scoreText } from '../components/placement.js';
import { absoluteTime, clockTime, commandLine, durationOf, formatCost, formatDuration, isFinal, ms, REQUEUABLE, requirementText, runTime, STAGES } from '../format.js';
import { LogBuffer } from '../log-buffer.js';
import { jobService } from '../rpc.js';
import { Link, navigate } from '../router.js';
import { GuardedButton } from '../components/guarded.js';
import { ReviewPanel } from '../components/review-panel.js';
import { followStream } from '../streams.js';

export function JobDetailPage({ jobId }: { jobId: string }): JSX.Element {
  const [job, setJob] = useState<Job | null>(null);
  const [loadError, setLoadError] = useState<{ message: string; missing: boolean } | null>(null);
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [watchError, setWatchError] = useState<string | null>(null);
  const buffer = useRef(new LogBuffer());
  const [logVersion, setLogVersion] = useState(0);
  const [logStatus, setLogStatus] = useState<LogStatus>('connecting');
  const [logError, setLogError] = useState<string | null>(null);
  const now = useNow(1_000);

  // The job itself: read once, then kept current by its events.
  useEffect(() => {
    setJob(null);
    setLoadError(null);
    setEvents([]);
    const abort = new AbortController();
    jobService.getJob({ jobId }, { signal: abort.signal }).then(
      (res) => setJob((current) => (current && res.job && current.revision > res.job.revision ? current : (res.job ?? null))),
      (err: unknown) => {
        if (abort.signal.aborted) return;
        const missing = ConnectError.from(err).code === Code.NotFound;
        setLoadError({ message: missing ? `There is no job with the id ${jobId}.` : describeError(err, 'load the job'), missing });
      },
    );
    const stop = followStream({
      purpose: "follow the job's changes",
      reopenOnEnd: true,
      open: (signal, onOpen) => jobService.watchJobs({ jobId }, { signal, onHeader: onOpen }),
      onMessage: (res) => {
        const event = res.event;
        if (!event) return;
        setEvents((list) => (list.some((e) => e.revision === event.revision) ? list : [...list, event].sort((a, b) => Number(a.revision - b.revision))));
        if (event.job) setJob((current) => (current && current.revision >= event.job!.revision ? current : event.job!));
      },
      onState: (state) => setWatchError(state.kind === 'retrying' ? state.error : null),
    });
    return () => {
      abort.abort();
      stop();
    };
  }, [jobId]);

  // TailLogs ends when the job does; a requeue brings it back to life, so the tail opens again
  // (resuming after the last chunk taken) each time the job leaves a final stage.
  const revived = useRevivals(job);

  // A new job starts a new buffer; a revived one keeps its earlier attempts' output.
  useEffect(() => {
    buffer.current = new LogBuffer();
    setLogVersion(0);
  }, [jobId]);

  // Its output: everything stored, then new chunks until the job ends.
  useEffect(() => {
    let frame = 0;
    const stop = followStream({
      purpose: "read the job's output",
      reopenOnEnd: false,
      // Reopened (a dropped connection, or too slow a reader), it resumes after the last chunk taken.
      open: (signal, onOpen) => {
        const after = buffer.current.position;
        return jobService.tailLogs({ jobId, follow: true, ...(after ? { afterEpoch: after.epoch, afterSequence: after.sequence } : {}) }, { signal, onHeader: onOpen });
      },
      onMessage: (res) => {
        if (!res.chunk || !buffer.current.append(res.chunk)) return;
        // Many chunks in one frame render once.
        frame ||= requestAnimationFrame(() => {
          frame = 0;
          setLogVersion(buffer.current.version);
        });
      },
      onState: (state) => {
        setLogStatus(state.kind === 'open' ? 'following' : state.kind === 'ended' ? 'complete' : state.kind === 'retrying' ? 'retrying' : 'connecting');
        setLogError(state.kind === 'retrying' && !/no job/i.test(state.error) ? state.error : null);
        if (state.kind === 'ended') setLogVersion(buffer.current.version + 1);
      },
    });
    return () => {
      stop();
      cancelAnimationFrame(frame);
    };
  }, [jobId, revived]);

  if (loadError) {
    return (
      <div class="page">
        <Breadcrumb jobId={jobId} />
        {loadError.missing ? (
          <Empty title="Job not found">
            {loadError.message} <Link href="/jobs">Back to the jobs</Link>
          </Empty>
        ) : (
          <ErrorBanner message={loadError.message} onRetry={() => location.reload()} />
        )}
      </div>
    );
  }
  if (!job) {
    return (
      <div class="page">
        <Breadcrumb jobId={jobId} />
        <div class="skeleton skeleton-title" />
        <div class="skeleton skeleton-block" />
      </div>
    );
  }

  const final = isFinal(job.stage);
  const start = ms(job.startTime);
  const ran = runTime(job, now);
  const factoryOf = (epoch: bigint): string | undefined => job.attempts.find((a) => a.epoch === epoch)?.factoryId;
  const timeout = durationOf(job.timeout);

  return (
    <div class="page">
      <Breadcrumb jobId={jobId} />
      <header class="job-header">
        <div class="job-header-main">
          <div class="job-header-title">
            <h1 class="page-title">{job.title || commandLine(job.command)}</h1>
            <StageBadge stage={job.stage} large />
          </div>
          <div class="job-header-meta">
            <span class="mono">{job.id}</span>
            <CopyButton text={job.id} label="Copy job id" />
            <span class="dot-sep" />
            <Link href={`/jobs?product=${encodeURIComponent(job.productId)}`}>{job.productId}</Link>
            <span class="dot-sep" />
            <span>
              submitted <When at={ms(job.createTime)} now={now} />
            </span>
          </div>
        </div>
        <JobActions job={job} onChange={(next) => setJob((current) => (current && current.revision >= next.revision ? current : next))} />
      </header>

      <ErrorBanner message={watchError} />
      {job.cancelRequestTime && !final && (
        <div class="banner banner-info" role="status">
          <span>
            Cancellation requested <When at={ms(job.cancelRequestTime)} now={now} />; waiting for {job.lease?.factoryId ?? 'the factory'} to stop the command.
          </span>
        </div>
      )}
      {job.reason && !final && !job.cancelRequestTime && (
        <div class={`banner ${job.stage === JobStage.QUEUED || job.stage === JobStage.BLOCKED ? 'banner-warn' : 'banner-info'}`}>
          <span>{sentence(job.reason)}</span>
        </div>
      )}

      <div class="facts">
        <Fact label="Stage"><span class={`text-${STAGES[job.stage].tone} strong`}>{STAGES[job.stage].label}</span></Fact>
        <Fact label="Factory">{job.lease?.factoryId ?? job.attempts.at(-1)?.factoryId ?? <span class="muted">not placed yet</span>}</Fact>
        <Fact label="Attempts">
          {job.attemptCount} of {job.maxAttempts}
        </Fact>
        <Fact label="Epoch">{String(job.epoch)}</Fact>
        <Fact label={job.stage === JobStage.RUNNING ? 'Running for' : 'Ran for'} title="Its attempts' run time added up; waiting in the queue or for review does not count">
          {ran !== null ? formatDuration(ran) : <span class="muted">not started</span>}
        </Fact>
        <Fact label="Exit code">{job.exitCode ?? <span class="muted">—</span>}</Fact>
        {(job.cost > 0 || job.estimatedCost > 0 || job.costCeiling > 0) && (
          <Fact label="Cost">
            {formatCost(job.cost)}
            {job.estimatedCost > 0 ? <span class="muted small"> of {formatCost(job.estimatedCost)} estimated</span> : ''}
            {job.costCeiling > 0 ? <span class="muted small"> · ceiling {formatCost(job.costCeiling)} per attempt</span> : ''}
          </Fact>
        )}
        {job.stage === JobStage.QUEUED && ms(job.notBeforeTime) !== null && ms(job.notBeforeTime)! > now && (
          <Fact label={ms(job.runAt) === ms(job.notBeforeTime) ? 'Runs' : 'Retry'}>
            <When at={ms(job.notBeforeTime)} now={now} future />
          </Fact>
        )}
        {job.concurrencyKey && (
          <Fact label="Concurrency">
            <span class="mono">{job.concurrencyKey}</span> <span class="muted small">at most {job.concurrencyLimit} at once</span>
          </Fact>
        )}
        {job.scheduleId && (
          <Fact label="Schedule">
            <span class="mono">{job.scheduleId}</span>
          </Fact>
        )}
      </div>
      {job.result && (
        <div class={`result result-${STAGES[job.stage].tone}`}>
          <span class="result-label">Result</span>
          <span class="mono">{job.result}</span>
        </div>
      )}

      {job.review && <ReviewPanel review={job.review} awaiting={job.stage === JobStage.AWAITING_REVIEW} />}
      {/* Until the job first runs, where it could go matters more than its (empty) output. */}
      {!final && start === null && <PlacementPanel job={job} />}
      <LogView buffer={buffer.current} version={logVersion} status={logStatus} jobId={job.id} factoryOf={factoryOf} />
      <ErrorBanner message={logError} />
      {/* Once its work is done (awaiting review, or blocked on its children) placement is moot. */}
      {!final && start !== null && job.stage !== JobStage.AWAITING_REVIEW && job.stage !== JobStage.BLOCKED && <PlacementPanel job={job} />}

      <DagPanel jobId={job.id} />
      <ArtifactsPanel job={job} />
      <Panel title="Attempts">
        {job.attempts.length ? (
          <div class="table-wrap">
            <AttemptsTable attempts={job.attempts} now={now} />
          </div>
        ) : (
          <Empty title="Not offered to a factory yet" />
        )}
      </Panel>
      <div class="grid-2">
        <Panel title="Definition" class="span-wide">
          <dl class="definition">
            <dt>Command</dt>
            <dd>
              <code class="command">{commandLine(job.command)}</code>
            </dd>
            <dt>Requires</dt>
            <dd>
              <Chips items={job.requiredLabels.map(requirementText)} empty="any factory" />
            </dd>
            <dt>Priority</dt>
            <dd>{job.priority}</dd>
            <dt>Timeout</dt>
            <dd>{timeout !== null ? formatDuration(timeout) : 'server default'}</dd>
            <dt>Environment</dt>
            <dd>
              <Chips items={Object.keys(job.env).sort()} empty="none added" />
              {Object.keys(job.env).length > 0 && <span class="muted small"> (values hidden)</span>}
            </dd>
            <dt>Idempotency key</dt>
            <dd class="mono small">{job.idempotencyKey || <span class="muted">none</span>}</dd>
            {job.externalId && (
              <>
                <dt>Tracker item</dt>
                <dd>
                  {/^https?:\/\//.test(job.externalUrl) ? (
                    <a href={job.externalUrl} target="_blank" rel="noopener noreferrer">
                      {job.externalId}
                    </a>
                  ) : (
                    job.externalId
                  )}
                </dd>
              </>
            )}
            <dt>Updated</dt>
            <dd>
              {ms(job.updateTime) !== null ? absoluteTime(ms(job.updateTime)!) : '—'} <span class="muted small">(revision {String(job.revision)})</span>
            </dd>
          </dl>
        </Panel>
        <Panel title="History" aside={<span class="muted small">newest first</span>}>
          <History events={events} />
        </Panel>
      </div>
    </div>
  );
}

/** Events shown before "Show all": enough for a job's usual life; a long one unfolds on demand. */
const HISTORY_SHOWN = 30;

/** The job's events, newest first; the whole history is one click away. */
function History({ events }: { events: JobEvent[] }): JSX.Element {
  const [all, setAll] = useState(false);
  const newestFirst = [...events].reverse();
  const shown = all ? newestFirst : newestFirst.slice(0, HISTORY_SHOWN);
  return (
    <>
      <ol class="timeline">
        {shown.map((e) => (
          <li class={`timeline-item tone-${STAGES[e.toStage].tone}`} key={String(e.revision)}>
            <div class="timeline-head">
              <span class="timeline-kind">{e.kind.replace(/_/g, ' ')}</span>
              <span class="muted small" title={ms(e.time) !== null ? absoluteTime(ms(e.time)!) : ''}>{ms(e.time) !== null ? clockTime(ms(e.time)!) : ''}</span>
            </div>
            <div class="small">
              {e.fromStage !== JobStage.UNSPECIFIED && e.fromStage !== e.toStage ? `${STAGES[e.fromStage].label} → ` : ''}
              {STAGES[e.toStage].label}
              <span class="muted"> · {e.actor}</span>
            </div>
            {e.message && <div class="small muted timeline-message">{e.message}</div>}
          </li>
        ))}
      </ol>
      {shown.length < newestFirst.length && (
        <div class="timeline-more">
          <button type="button" class="button button-secondary button-small" onClick={() => setAll(true)}>
            Show all {newestFirst.length} events
          </button>
        </div>
      )}
    </>
  );
}


/** How many times the job went from a final stage back to an active one (a requeue) while shown. */
function useRevivals(job: Job | null): number {
  const [revivals, setRevivals] = useState(0);
  const wasFinal = useRef<boolean | null>(null);
  const final = job ? isFinal(job.stage) : null;
  useEffect(() => {
    if (final === null) return;
    if (wasFinal.current === true && !final) setRevivals((n) => n + 1);
    wasFinal.current = final;
  }, [final]);
  return revivals;
}

function Breadcrumb({ jobId }: { jobId: string }): JSX.Element {
  return (
    <nav class="breadcrumb" aria-label="Breadcrumb">
      <Link href="/jobs">Jobs</Link>
      <span aria-hidden="true">/</span>
      <span class="mono">{jobId}</span>
    </nav>
  );
}

function Fact({ label, title, children }: { label: string; title?: string; children: JSX.Element | JSX.Element[] | string | number | (string | JSX.Element | number)[] }): JSX.Element {
  return (
    <div class="fact" title={title} data-fact={label}>
      <div class="fact-label">{label}</div>
      <div class="fact-value">{children}</div>
    </div>
  );
}

function AttemptsTable({ attempts, now }: { attempts: Attempt[]; now: number }): JSX.Element {
  return (
    <table class="table table-compact attempts-table">
      <thead>
        <tr>
          <th class="num">Epoch</th>
          <th>Factory</th>
          <th>Offered</th>
          <th>Started</th>
          <th class="num">Ran</th>
          <th>Outcome</th>
          <th class="num">Exit</th>
          <th title="The score that won the dispatch, at that moment">Score at dispatch</th>
        </tr>
      </thead>
      <tbody>
        {[...attempts].reverse().map((a) => {
          const offered = ms(a.offerTime);
          const started = ms(a.startTime);
          const ended = ms(a.endTime);
          return (
            <tr key={String(a.epoch)}>
              <td class="num mono">{String(a.epoch)}</td>
              <td class="mono small nowrap">{a.factoryId}</td>
              <td class="nowrap small" title={offered !== null ? absoluteTime(offered) : ''}>{offered !== null ? clockTime(offered) : '—'}</td>
              <td class="nowrap small" title={started !== null ? absoluteTime(started) : ''}>{started !== null ? clockTime(started) : <span class="muted">never</span>}</td>
              <td class="num nowrap">{started !== null ? formatDuration((ended ?? now) - started) : '—'}</td>
              <td>
                <OutcomeBadge outcome={a.outcome} />
                {a.message && <div class="muted small attempt-message">{a.message}</div>}
              </td>
              <td class="num mono">{a.exitCode ?? '—'}</td>
              <td class="decision-cell">
                {a.decision ? (
                  <>
                    <ScoreBar score={a.decision} />
                    <div class="muted small">{scoreText(a.decision)}</div>
                  </>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** What an operator may do with the job in its stage; the key's role disables what it may not. */
function JobActions({ job, onChange }: { job: Job; onChange: (job: Job) => void }): JSX.Element {
  const reviewing = job.stage === JobStage.AWAITING_REVIEW;
  const cancellable = !isFinal(job.stage);
  const requeuable = REQUEUABLE.has(job.stage);
  const running = job.stage === JobStage.RUNNING || job.stage === JobStage.LEASED;
  const apply = (res: { job?: Job | undefined }): void => {
    if (res.job) onChange(res.job);
  };
  return (
    <div class="job-actions">
      <GuardedButton
        rpc="JobService/SubmitJob"
        class="button button-secondary"
        title="A new job, submitted from a form filled in from this one"
        onClick={() => navigate(`/jobs?new=1&from=${encodeURIComponent(job.id)}`)}
      >
        Run again
      </GuardedButton>
      {reviewing && !job.review && (
        <ConfirmAction
          label="Ship"
          rpc="JobService/ShipJob"
          title="Ship this job"
          description="Its work is accepted: the job counts as succeeded and the jobs waiting for it are released."
          reasonPlaceholder="Note (optional, recorded on the job)"
          doing="ship the job"
          primary
          onConfirm={async (reason) => apply(await jobService.shipJob({ jobId: job.id, reason }))}
        />
      )}
      {reviewing && job.review && (
        <ConfirmAction
          label="Approve"
          rpc="JobService/ShipJob"
          title="Approve this job"
          description={`Your approval is recorded on the job; it ships once ${job.review.requiredApprovals} of its reviewers have approved (${job.review.approvals.length} so far).`}
          reasonPlaceholder="Note (optional, recorded with your approval)"
          doing="approve the job"
          primary
          onConfirm={async (reason) => apply(await jobService.shipJob({ jobId: job.id, reason }))}
        />
      )}
      {reviewing && (
        <ConfirmAction
          label="Reject"
          rpc="JobService/RejectJob"
          title="Reject this job"
          description="Its work is turned down: the job ends rejected and the jobs waiting for it follow their failure policy."
          reasonPlaceholder="Why (required, recorded on the job)"
          reasonRequired="Say why the work is rejected: the reason is recorded on the job."
          doing="reject the job"
          danger
          onConfirm={async (reason) => apply(await jobService.rejectJob({ jobId: job.id, reason }))}
        />
      )}
      {requeuable && (
        <ConfirmAction
          label="Requeue"
          rpc="JobService/RequeueJob"
          title="Requeue this job"
          description="It goes back to the queue with a fresh allowance of attempts (its history is kept), or waits blocked while a dependency has not succeeded."
          reasonPlaceholder="Note (optional, recorded on the job)"
          doing="requeue the job"
          onConfirm={async (reason) => apply(await jobService.requeueJob({ jobId: job.id, reason }))}
        />
      )}
      {cancellable && (
        <ConfirmAction
          label="Cancel job"
          rpc="JobService/CancelJob"
          title="Cancel this job"
          description={running ? 'The factory stops the command (SIGTERM, then SIGKILL after the grace period).' : 'The job will not run.'}
          reasonPlaceholder="Reason (recorded on the job)"
          doing="cancel the job"
          danger
          disabled={Boolean(job.cancelRequestTime)}
          busyLabel="Cancelling…"
          onConfirm={async (reason) => apply(await jobService.cancelJob({ jobId: job.id, reason: reason || 'cancelled from the web control plane' }))}
        />
      )}
    </div>
  );
}

/**
 * Where a waiting job could go and why (JobService.ExplainScore): for every connected factory the
 * hard filters it passes or fails, and the weighted score term by term for those that pass. Read
 * again whenever the job changes. When an attempt already ran, the panel says why its score at
 * dispatch (kept on the attempt) differs from the scores now.
 */
import type { JSX } from 'preact';
import type { Job, ScoreBreakdown, ScoringWeights } from '../../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { sentence } from '../errors.js';
import { useLoad } from '../hooks.js';
import { jobService } from '../rpc.js';
import { Empty, ErrorBanner, Panel } from './ui.js';

/** The score's terms, in the order the dispatcher adds them. */
export const TERMS = [
  { key: 'priority', label: 'priority' },
  { key: 'aging', label: 'aging' },
  { key: 'affinity', label: 'affinity' },
  { key: 'load', label: 'free slots' },
  { key: 'fairShare', label: 'fair share' },
  { key: 'costClass', label: 'cost class' },
] as const;

const num = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) < 10 ? 2 : 1));

/** "priority 5 + aging 0.25 + free slots 0.5 = 5.75", zero terms left out. */
export function scoreText(score: ScoreBreakdown): string {
  const terms = TERMS.filter((t) => score[t.key] !== 0).map((t) => `${t.label} ${num(score[t.key])}`);
  return `${terms.join(' + ') || 'no terms'} = ${num(score.total)}`;
}

function weightsText(w: ScoringWeights): string {
  return TERMS.filter((t) => w[t.key] !== undefined)
    .map((t) => `${t.label} ×${num(w[t.key]!)}`)
    .join(' · ');
}

export function ScoreBar({ score }: { score: ScoreBreakdown }): JSX.Element {
  const sum = TERMS.reduce((n, t) => n + Math.abs(score[t.key]), 0) || 1;
  return (
    <div class="score-bar" title={scoreText(score)}>
      {TERMS.map((t) => (score[t.key] ? <span key={t.key} class={`score-seg term-${t.key}`} style={{ flexGrow: Math.abs(score[t.key]) / sum }} /> : null))}
    </div>
  );
}

export function PlacementPanel({ job }: { job: Job }): JSX.Element {
  const explain = useLoad((signal) => jobService.explainScore({ jobId: job.id }, { signal }), [job.id, String(job.revision)], "explain the job's placement");
  const data = explain.data;
  const dispatched = job.attempts.at(-1)?.decision;
  return (
    <Panel
      title="Placement"
      id="placement"
      aside={data?.weights ? <span class="muted small">weights: {weightsText(data.weights)}</span> : null}
    >
      <ErrorBanner message={explain.error} onRetry={explain.reload} />
      {dispatched && (
        <p class="score-note small" data-score-note>
          Its last attempt was dispatched with a score of <span class="strong">{num(dispatched.total)}</span> ({scoreText(dispatched)}). The scores below are
          computed now, so they differ: aging grows while a job waits, and free slots and fair share move with the fleet.
        </p>
      )}
      {data?.waitingReasons.map((reason) => (
        <div key={reason} class="banner banner-info placement-reason">
          {sentence(reason)}
        </div>
      ))}
      {data?.unplaceableReason && <div class="banner banner-warn placement-reason">{sentence(data.unplaceableReason)}</div>}
      {data && !data.factories.length ? (
        <Empty title="No factory is connected">The job waits until one that passes its filters connects.</Empty>
      ) : (
        <div class="table-wrap">
        <table class="table table-compact placement-table">
          <thead>
            <tr>
              <th>Factory</th>
              <th>Filters</th>
              <th class="num">Score</th>
              <th>Terms</th>
            </tr>
          </thead>
          <tbody>
            {data?.factories.map((f, i) => (
              <tr key={f.factoryId} class={f.passed ? '' : 'row-muted'} data-factory={f.factoryId}>
                <td class="mono small nowrap">
                  {f.factoryId}
                  {f.passed && i === 0 && <span class="pill pill-online best">best</span>}
                </td>
                <td>
                  {f.passed ? (
                    <span class="text-succeeded small strong">passes all</span>
                  ) : (
                    f.checks
                      .filter((c) => !c.passed)
                      .map((c) => (
                        <div class="small" key={c.name}>
                          <span class="text-failed strong">{c.name}</span> <span class="muted">{c.detail}</span>
                        </div>
                      ))
                  )}
                </td>
                <td class="num strong">{f.score ? num(f.score.total) : '—'}</td>
                <td class="terms-cell">
                  {f.score ? (
                    <>
                      <ScoreBar score={f.score} />
                      <div class="muted small">{scoreText(f.score)}</div>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
    </Panel>
  );
}

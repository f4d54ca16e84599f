/**
 * Weights: a product's A/B experiment of scoring weights (WeightsService.GetWeightsExperiment):
 * the candidate arm's weights and share, and for each arm the placements, success rate, queue wait,
 * turnaround and cost with 95% intervals, then the differences. Read again every 10 s. Starting and
 * stopping an experiment, and the offline evaluation, are `gigafactory weights` (docs/weights.md).
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { ScoringWeights } from '../../../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import type { ArmStats, MeanInterval } from '../../../../gen/ts/gigafactory/fleet/v1/weights_service_pb.js';
import { Empty, ErrorBanner, PageHeader, Panel, useNow, When } from '../components/ui.js';
import { ms, plural } from '../format.js';
import { useInterval, useLoad } from '../hooks.js';
import { weightsService } from '../rpc.js';
import { navigate } from '../router.js';

const REFRESH_MS = 10_000;
const WEIGHT_NAMES = ['priority', 'aging', 'affinity', 'load', 'fairShare', 'costClass'] as const;

export function WeightsPage({ product }: { product: string }): JSX.Element {
  const [typed, setTyped] = useState(product);
  return (
    <div class="page">
      <PageHeader title="Weights" subtitle="A/B experiments of a product’s scoring weights: a share of its jobs placed with candidate weights, compared with the rest." />
      <Panel>
        <form
          class="weights-product"
          onSubmit={(event) => {
            event.preventDefault();
            navigate(`/weights?product=${encodeURIComponent(typed.trim())}`);
          }}
        >
          <label>
            Product <input class="input" name="product" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} placeholder="e.g. build" autocomplete="off" />
          </label>
          <button type="submit" class="button button-primary">
            Show
          </button>
        </form>
      </Panel>
      {product && <Experiment product={product} key={product} />}
    </div>
  );
}

function Experiment({ product }: { product: string }): JSX.Element {
  const now = useNow(10_000);
  const loaded = useLoad((signal) => weightsService.getWeightsExperiment({ productId: product }, { signal }), [product], `read ${product}’s weights experiment`);
  useInterval(() => loaded.reloadSoon(), REFRESH_MS);
  const x = loaded.data?.experiment;
  const c = loaded.data?.comparison;
  return (
    <>
      <ErrorBanner message={loaded.error} onRetry={loaded.reload} />
      {loaded.data && !x && (
        <Panel>
          <Empty title={`${product} runs no weights experiment`}>
            Start one with <code>gigafactory weights ab --product {product} --weights candidate.yaml --fraction 0.1</code>.
          </Empty>
        </Panel>
      )}
      {x && c && (
        <Panel
          title={`${Math.round(x.fraction * 1000) / 10}% of ${product}’s jobs on ${weightsText(x.weights)}`}
          aside={
            <>
              started <When at={ms(x.startTime)} now={now} />
            </>
          }
        >
          <div class="table-wrap">
            <table class="table weights-table" data-weights-comparison>
              <thead>
                <tr>
                  <th>Arm</th>
                  <th class="num">Placements</th>
                  <th class="num">Success rate</th>
                  <th class="num">Queue wait</th>
                  <th class="num">Turnaround</th>
                  <th class="num">Cost</th>
                </tr>
              </thead>
              <tbody>
                <ArmRow arm={c.control!} />
                <ArmRow arm={c.candidate!} />
                <tr data-arm="difference">
                  <th>Candidate − control</th>
                  <td class="num" />
                  <td class="num">{interval(c.successRate, points, true)}</td>
                  <td class="num">{interval(c.waitMs, millis, true)}</td>
                  <td class="num">{interval(c.turnaroundMs, millis, true)}</td>
                  <td class="num">{interval(c.cost, cost, true)}</td>
                </tr>
              </tbody>
            </table>
          </div>
          <p class="muted weights-note">
            95% intervals; a difference whose interval excludes 0 is not noise. Arms are chosen by job id, so the comparison needs no model (docs/weights.md).
          </p>
        </Panel>
      )}
    </>
  );
}

function ArmRow({ arm }: { arm: ArmStats }): JSX.Element {
  return (
    <tr data-arm={arm.arm}>
      <th>{arm.arm === 'candidate' ? 'Candidate' : 'Control'}</th>
      <td class="num">
        {arm.placements} <span class="muted">({plural(arm.decided, 'outcome')})</span>
      </td>
      <td class="num">{interval(arm.successRate, percent)}</td>
      <td class="num">{interval(arm.waitMs, millis)}</td>
      <td class="num">{interval(arm.turnaroundMs, millis)}</td>
      <td class="num">{interval(arm.cost, cost)}</td>
    </tr>
  );
}

function weightsText(w: ScoringWeights | undefined): string {
  return WEIGHT_NAMES.filter((n) => w?.[n] !== undefined)
    .map((n) => `${n} ${w![n]}`)
    .join(', ');
}

const percent = (v: number): string => `${Math.round(v * 1000) / 10}%`;
const points = (v: number): string => `${Math.round(v * 1000) / 10} pt`;
const millis = (v: number): string => (Math.abs(v) >= 10_000 ? `${Math.round(v / 100) / 10} s` : `${Math.round(v)} ms`);
const cost = (v: number): string => String(Math.round(v * 100) / 100);

/** The mean, and under it its 95% interval. */
function interval(m: MeanInterval | undefined, unit: (v: number) => string, signed = false): JSX.Element | string {
  if (!m || m.count === 0) return '—';
  const sign = (v: number): string => (signed && v > 0 ? '+' : '') + unit(v);
  return (
    <>
      <span class="interval-mean">{sign(m.mean)}</span>
      <span class="interval-range muted">
        [{sign(m.low)}, {sign(m.high)}]
      </span>
    </>
  );
}

/**
 * A product's spend over its budget period, drawn as SVG: a bar per UTC day (what that day cost),
 * and either the burndown of what is left of the limit against an even pace, or, without a limit,
 * the running total.
 */
import type { JSX } from 'preact';
import type { Burndown } from '../budget-model.js';
import { formatCost, plural } from '../format.js';

const W = 640;
const H = 220;
const M = { left: 56, right: 18, top: 16, bottom: 30 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

export function BurndownChart({ data, productId }: { data: Burndown; productId: string }): JSX.Element {
  const n = Math.max(1, data.days.length);
  const slot = PLOT_W / n;
  const y = (value: number): number => M.top + PLOT_H - (Math.min(value, data.top) / data.top) * PLOT_H;
  const mid = (i: number): number => M.left + i * slot + slot / 2;
  const past = data.days.map((d, i) => ({ d, i })).filter(({ d }) => d.cumulative !== null);
  const line =
    data.limit > 0
      ? [`${M.left},${y(data.limit)}`, ...past.map(({ d, i }) => `${mid(i)},${y(d.remaining!)}`)]
      : [`${M.left},${y(0)}`, ...past.map(({ d, i }) => `${mid(i)},${y(d.cumulative!)}`)];
  const labelled = n <= 2 ? data.days.map((_, i) => i) : [0, Math.floor((n - 1) / 2), n - 1];
  return (
    <figure class="burndown">
      <svg class="burndown-svg" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Spend per day and ${data.limit > 0 ? 'budget left' : 'total spend'} for ${productId}`}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={M.left} x2={W - M.right} y1={y(data.top * f)} y2={y(data.top * f)} class="burndown-grid" />
            <text x={M.left - 8} y={y(data.top * f) + 4} class="burndown-tick" text-anchor="end">
              {formatCost(data.top * f)}
            </text>
          </g>
        ))}
        {data.days.map((d, i) => {
          const h = d.cost ? Math.max(1.5, (Math.min(d.cost, data.top) / data.top) * PLOT_H) : 0;
          return (
            <g key={d.date} class={d.cost === null ? 'burndown-day burndown-future' : 'burndown-day'} data-date={d.date}>
              <title>{d.cost === null ? `${d.date}: still to come` : `${d.date}: ${formatCost(d.cost)} spent by ${plural(d.jobCount, 'attempt')}${d.remaining !== null && data.limit > 0 ? `; ${formatCost(d.remaining)} left` : ''}`}</title>
              <rect x={M.left + i * slot + slot * 0.18} y={M.top} width={slot * 0.64} height={PLOT_H} class="burndown-slot" />
              {h > 0 && <rect x={M.left + i * slot + slot * 0.18} y={M.top + PLOT_H - h} width={slot * 0.64} height={h} rx={2} class="burndown-bar" />}
            </g>
          );
        })}
        {data.limit > 0 && (
          <>
            <line x1={M.left} x2={W - M.right} y1={y(0)} y2={y(0)} class="burndown-axis" />
            <line x1={M.left} y1={y(data.limit)} x2={W - M.right} y2={y(0)} class="burndown-pace" />
          </>
        )}
        <polyline points={line.join(' ')} class={data.limit > 0 ? 'burndown-line' : 'burndown-line burndown-line-total'} />
        {past.length > 0 && (
          <circle cx={mid(past.at(-1)!.i)} cy={y(data.limit > 0 ? past.at(-1)!.d.remaining! : past.at(-1)!.d.cumulative!)} r={3.5} class="burndown-now" />
        )}
        {labelled.map((i) => (
          <text key={i} x={mid(i)} y={H - 10} class="burndown-tick" text-anchor="middle">
            {shortDate(data.days[i]?.date ?? '')}
          </text>
        ))}
      </svg>
      <figcaption class="legend">
        <span><i class="burndown-swatch-bar" />Spent per day</span>
        {data.limit > 0 ? (
          <>
            <span><i class="burndown-swatch-line" />Left of {formatCost(data.limit)}</span>
            <span><i class="burndown-swatch-pace" />Even pace</span>
          </>
        ) : (
          <span><i class="burndown-swatch-line" />Total spent (no limit)</span>
        )}
      </figcaption>
    </figure>
  );
}

/** "2026-11-25" → "Nov 25". */
function shortDate(date: string): string {
  if (!date) return '';
  return new Date(`${date}T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/**
 * What `gigafactory weights` does once parsed (its flags are in weights-command.ts): the
 * WeightsService calls and the text of their reports. Loaded only when one of its commands runs.
 */
import { toJson } from '@bufbuild/protobuf';
import {
  EvaluateWeightsResponseSchema,
  GetWeightsExperimentResponseSchema,
  RecommendWeightsResponseSchema,
  WeightsService,
  type ArmStats,
  type MeanInterval,
  type MetricChange,
  type WeightsEvaluation,
} from '../../gen/ts/gigafactory/fleet/v1/weights_service_pb.js';
import type { ScoringWeights } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { WEIGHT_NAMES } from '../domain/scheduler.js';
import { serviceClient } from './client.js';
import type { ClientSecurity } from './connection-options.js';
import { print, table } from './format-text.js';
import { readWeightsFile } from './weights-file.js';

interface WeightsCli {
  coordinator(): string;
  security(): ClientSecurity;
  json(): boolean;
}

const clientOf = (cli: WeightsCli) => serviceClient(WeightsService, cli.coordinator(), cli.security());

export async function evaluate(cli: WeightsCli, opts: { product: string; weights: string; seed: number }): Promise<void> {
  const weights = readWeightsFile(opts.weights);
  const res = await clientOf(cli).evaluateWeights({ productId: opts.product, weights, seed: opts.seed });
  if (cli.json()) return print(toJson(EvaluateWeightsResponseSchema, res));
  print([`weights   ${weightsText(res.currentWeights)}  (now)`, `       →  ${weightsText(res.candidateWeights)}`, evaluationText(res.evaluation!)].join('\n'));
}

export async function recommend(cli: WeightsCli, opts: { product: string; objective: string; seed: number }): Promise<void> {
  const res = await clientOf(cli).recommendWeights({ productId: opts.product, objective: opts.objective, seed: opts.seed });
  if (cli.json()) return print(toJson(RecommendWeightsResponseSchema, res));
  const verdict = res.recommended
    ? `recommended (objective ${res.objective}, ${res.tried} sets tried): ${weightsText(res.weights)}`
    : `no recommendation (objective ${res.objective}, ${res.tried} sets tried): no set's gain has an interval above 0; the best found was ${weightsText(res.weights)}`;
  print([verdict, `now      ${weightsText(res.currentWeights)}`, evaluationText(res.evaluation!)].join('\n'));
}

export async function experiment(cli: WeightsCli, opts: { product: string; weights?: string; fraction?: number; off: boolean; seed: number }): Promise<void> {
  const client = clientOf(cli);
  if (opts.off) {
    await client.stopWeightsExperiment({ productId: opts.product });
    return print(cli.json() ? { stopped: true } : `stopped the weights experiment of ${opts.product}`);
  }
  if (opts.weights !== undefined && opts.fraction !== undefined) {
    await client.startWeightsExperiment({ productId: opts.product, weights: readWeightsFile(opts.weights), fraction: opts.fraction });
  }
  const res = await client.getWeightsExperiment({ productId: opts.product, seed: opts.seed });
  if (cli.json()) return print(toJson(GetWeightsExperimentResponseSchema, res));
  if (!res.experiment) return print(`${opts.product} runs no weights experiment`);
  const c = res.comparison!;
  const x = res.experiment;
  print(
    [
      `experiment  ${Math.round(x.fraction * 1000) / 10}% of ${opts.product}'s jobs with ${weightsText(x.weights)}`,
      table(['arm', 'placements', 'decided', 'success rate', 'wait', 'turnaround', 'cost'], [armRow(c.control!), armRow(c.candidate!)]),
      `difference (candidate - control): success ${pct(c.successRate!)}, wait ${ms(c.waitMs!)}, turnaround ${ms(c.turnaroundMs!)}${c.cost ? `, cost ${num(c.cost)}` : ''}`,
    ].join('\n'),
  );
}

function weightsText(w: ScoringWeights | undefined): string {
  return WEIGHT_NAMES.filter((n) => w?.[n] !== undefined)
    .map((n) => `${n}=${w![n]}`)
    .join(' ');
}

function evaluationText(e: WeightsEvaluation): string {
  const row = (name: string, m: MetricChange | undefined, f: (m: MeanInterval) => string, unit: (v: number) => string): string[] =>
    m ? [name, unit(m.baseline), unit(m.candidate), f(m.change!)] : [name, '-', '-', 'not reported'];
  return [
    `${e.decisions} placements with an outcome; the candidate picks the same factory in ${Math.round(e.agreement * 100)}%${e.unsupported ? `; ${e.unsupported} picks rest on every outcome (no like factory had enough)` : ''}`,
    table(
      ['metric', 'now', 'candidate', 'change (95% interval)'],
      [row('success rate', e.successRate, pct, (v) => `${round(v * 100)}%`), row('turnaround', e.turnaroundMs, ms, (v) => `${Math.round(v)} ms`), row('cost', e.cost, num, (v) => String(round(v)))],
    ),
  ].join('\n');
}

function armRow(a: ArmStats): string[] {
  return [a.arm, String(a.placements), String(a.decided), interval(a.successRate!, (v) => `${round(v * 100)}%`), interval(a.waitMs!, (v) => `${Math.round(v)} ms`), interval(a.turnaroundMs!, (v) => `${Math.round(v)} ms`), a.cost ? interval(a.cost, (v) => String(round(v))) : '-'];
}

const round = (v: number): number => Math.round(v * 100) / 100;
const interval = (m: MeanInterval, unit: (v: number) => string): string => (m.count === 0 ? '-' : `${unit(m.mean)} [${unit(m.low)}, ${unit(m.high)}]`);
const signed = (unit: (v: number) => string) => (v: number) => `${v > 0 ? '+' : ''}${unit(v)}`;
const pct = (m: MeanInterval): string => interval(m, signed((v) => `${round(v * 100)} pt`));
const ms = (m: MeanInterval): string => interval(m, signed((v) => `${Math.round(v)} ms`));
const num = (m: MeanInterval): string => interval(m, signed((v) => String(round(v))));

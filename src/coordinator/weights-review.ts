/**
 * Evaluating a product's scoring weights on its recorded placements (domain/weights-eval.ts), the
 * search for better ones (domain/weights-search.ts), and the A/B experiment that checks a candidate
 * set on live placements without the replay's bias. The recorded decisions are read from the store
 * after the decision log's buffer is written, so a placement of a moment ago counts.
 */
import { failedPrecondition } from '../domain/errors.js';
import type { PlacementDecision } from '../domain/placement-decision.js';
import { resolveWeights, validateWeights, type SchedulingWeights } from '../domain/scheduler.js';
import { compareArms, evaluateWeights, type ArmComparison, type WeightsEvaluation } from '../domain/weights-eval.js';
import { validateExperiment, type WeightsExperiment } from '../domain/weights-experiment.js';
import { recommendWeights, type Objective, type Recommendation } from '../domain/weights-search.js';
import { DECISIONS_KEPT_PER_PRODUCT } from '../store/decision-store.js';
import type { Clock } from './clock.js';
import type { DecisionLog } from './decision-log.js';
import type { Scheduling } from './scheduling.js';

export interface EvaluationReport {
  /** The product's weights now (what the recorded placements are compared with). */
  current: SchedulingWeights;
  candidate: SchedulingWeights;
  evaluation: WeightsEvaluation;
}

export interface ExperimentReport {
  experiment: WeightsExperiment | null;
  /** The arms' outcomes since the experiment started (null when none runs). */
  comparison: ArmComparison | null;
}

export class WeightsReview {
  constructor(
    private readonly scheduling: Scheduling,
    private readonly decisions: DecisionLog,
    private readonly clock: Clock,
  ) {}

  /** The product's recorded placements replayed under its weights with `overrides` applied. */
  async evaluate(productId: string, overrides: Partial<Record<string, number>>, seed: number): Promise<EvaluationReport> {
    validateWeights(overrides, 'weights');
    const current = this.currentWeights(productId);
    const candidate = { ...current, ...(overrides as Partial<SchedulingWeights>) };
    return { current, candidate, evaluation: evaluateWeights(await this.recorded(productId), candidate, { seed }) };
  }

  async recommend(productId: string, objective: Objective, seed: number): Promise<Recommendation & { current: SchedulingWeights }> {
    const current = this.currentWeights(productId);
    return { ...recommendWeights(await this.recorded(productId), current, { objective, seed }), current };
  }

  /** Starts (or replaces) the product's experiment: `fraction` of its jobs placed with `weights` over its own. */
  async startExperiment(productId: string, weights: Partial<Record<string, number>>, fraction: number, actor: string): Promise<WeightsExperiment> {
    validateExperiment(weights, fraction);
    const now = this.clock.now();
    const experiment: WeightsExperiment = { weights: weights as Partial<SchedulingWeights>, fraction, startedAt: now };
    await this.scheduling.edit(productId, (s) => ({ ...s, experiment, revision: s.revision + 1, updatedAt: now, updatedBy: actor }));
    return experiment;
  }

  /** Ends the product's experiment: every placement uses the product's weights again. */
  async stopExperiment(productId: string, actor: string): Promise<void> {
    if (!this.scheduling.productSettings(productId).experiment) throw failedPrecondition(`product ${productId} runs no weights experiment`);
    const now = this.clock.now();
    await this.scheduling.edit(productId, ({ experiment: _ended, ...s }) => ({ ...s, revision: s.revision + 1, updatedAt: now, updatedBy: actor }));
  }

  async experiment(productId: string, seed: number): Promise<ExperimentReport> {
    const experiment = this.scheduling.productSettings(productId).experiment ?? null;
    if (!experiment) return { experiment: null, comparison: null };
    return { experiment, comparison: compareArms(await this.recorded(productId, experiment.startedAt), { seed }) };
  }

  private currentWeights(productId: string): SchedulingWeights {
    return resolveWeights(this.scheduling.defaults, this.scheduling.productSettings(productId).weights, null);
  }

  private async recorded(productId: string, since = 0): Promise<PlacementDecision[]> {
    await this.decisions.flush();
    return this.decisions.store.listDecisions(productId, DECISIONS_KEPT_PER_PRODUCT, since);
  }
}

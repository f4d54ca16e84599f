/**
 * A/B mode for scoring weights: a product's candidate weights are used for a fraction of its
 * placements, chosen by the job's id, so a job keeps its arm on every attempt and on every replica,
 * and the two arms are comparable groups of jobs (assigned at random with respect to everything the
 * jobs are). That randomization is what makes the arms' comparison free of counterfactual bias.
 */
import { invalidArgument } from './errors.js';
import { stableFraction } from './seeded-random.js';
import { validateWeights, type SchedulingWeights } from './scheduler.js';

export type WeightsArm = 'control' | 'candidate';

export interface WeightsExperiment {
  /** Overrides of the product's weights for the candidate arm (absent names: the product's). */
  weights: Partial<SchedulingWeights>;
  /** The share of the product's jobs placed with the candidate weights, from 0 to 1. */
  fraction: number;
  /** When it started (epoch ms): the comparison counts placements from then on. */
  startedAt: number;
}

/** The arm a job is in: stable for a job id, candidate for about `fraction` of ids. */
export function armOf(jobId: string, experiment: WeightsExperiment | undefined): WeightsArm {
  if (!experiment || experiment.fraction <= 0) return 'control';
  // Salted so the arm does not line up with the fleet spread, which hashes the bare id.
  return stableFraction(`weights-ab:${jobId}`) < experiment.fraction ? 'candidate' : 'control';
}

/** Checks an experiment's settings; INVALID_ARGUMENT naming the field. */
export function validateExperiment(weights: Partial<Record<string, number>>, fraction: number): void {
  validateWeights(weights, 'weights');
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction > 1) throw invalidArgument(`fraction ${fraction} must be more than 0 and at most 1`);
  if (Object.keys(weights).length === 0) throw invalidArgument('weights: name at least one scoring weight for the candidate arm');
}

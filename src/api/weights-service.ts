/**
 * WeightsService handlers: wire ↔ domain for the offline evaluation of scoring weights and their A/B
 * experiments (coordinator/weights-review.ts); one audit line per experiment started or stopped.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  ArmComparisonSchema,
  ArmStatsSchema,
  EvaluateWeightsResponseSchema,
  GetWeightsExperimentResponseSchema,
  MeanIntervalSchema,
  MetricChangeSchema,
  RecommendWeightsResponseSchema,
  StartWeightsExperimentResponseSchema,
  StopWeightsExperimentResponseSchema,
  WeightsEvaluationSchema,
  WeightsExperimentSchema,
  type ArmComparison,
  type ArmStats,
  type MeanInterval,
  type MetricChange,
  type WeightsEvaluation,
  type WeightsExperiment,
  type WeightsService,
} from '../../gen/ts/gigafactory/fleet/v1/weights_service_pb.js';
import type { MeanWithInterval } from '../domain/bootstrap.js';
import { invalidArgument } from '../domain/errors.js';
import { validateProductId } from '../domain/job-spec.js';
import type * as domain from '../domain/weights-eval.js';
import type { WeightsExperiment as DomainExperiment } from '../domain/weights-experiment.js';
import { OBJECTIVES, type Objective } from '../domain/weights-search.js';
import type { WeightsReview } from '../coordinator/weights-review.js';
import type { Logger } from '../logging.js';
import { actorOf } from './actor.js';
import { audit } from './audit.js';
import { weightsFromWire, weightsToWire } from './convert.js';

export function weightsServiceImpl(review: WeightsReview, log: Logger): ServiceImpl<typeof WeightsService> {
  return {
    async evaluateWeights(req) {
      validateProductId(req.productId);
      const report = await review.evaluate(req.productId, req.weights ? weightsFromWire(req.weights) : {}, req.seed || 1);
      return create(EvaluateWeightsResponseSchema, {
        currentWeights: weightsToWire(report.current),
        candidateWeights: weightsToWire(report.candidate),
        evaluation: evaluationToWire(report.evaluation),
      });
    },

    async recommendWeights(req) {
      validateProductId(req.productId);
      const r = await review.recommend(req.productId, objectiveFromWire(req.objective), req.seed || 1);
      return create(RecommendWeightsResponseSchema, {
        recommended: r.recommended,
        objective: r.objective,
        currentWeights: weightsToWire(r.current),
        weights: weightsToWire(r.weights),
        evaluation: evaluationToWire(r.evaluation),
        tried: r.tried,
      });
    },

    async startWeightsExperiment(req, ctx) {
      validateProductId(req.productId);
      const experiment = await review.startExperiment(req.productId, req.weights ? weightsFromWire(req.weights) : {}, req.fraction, actorOf(ctx));
      audit(ctx, log, 'weights_experiment_started', { productId: req.productId, weights: experiment.weights, fraction: experiment.fraction });
      return create(StartWeightsExperimentResponseSchema, { experiment: experimentToWire(experiment) });
    },

    async stopWeightsExperiment(req, ctx) {
      validateProductId(req.productId);
      await review.stopExperiment(req.productId, actorOf(ctx));
      audit(ctx, log, 'weights_experiment_stopped', { productId: req.productId });
      return create(StopWeightsExperimentResponseSchema, {});
    },

    async getWeightsExperiment(req) {
      validateProductId(req.productId);
      const { experiment, comparison } = await review.experiment(req.productId, req.seed || 1);
      return create(GetWeightsExperimentResponseSchema, {
        ...(experiment ? { experiment: experimentToWire(experiment) } : {}),
        ...(comparison ? { comparison: comparisonToWire(comparison) } : {}),
      });
    },
  };
}

function objectiveFromWire(objective: string): Objective {
  if (objective === '') return 'success';
  if (!(OBJECTIVES as readonly string[]).includes(objective)) throw invalidArgument(`objective "${objective.slice(0, 40)}" is not one of ${OBJECTIVES.join(', ')}`);
  return objective as Objective;
}

function intervalToWire(m: MeanWithInterval): MeanInterval {
  return create(MeanIntervalSchema, { mean: m.mean, low: m.low, high: m.high, count: m.n });
}

function changeToWire(m: domain.MetricChange): MetricChange {
  return create(MetricChangeSchema, { baseline: m.baseline, candidate: m.candidate, change: intervalToWire(m.change) });
}

function evaluationToWire(e: domain.WeightsEvaluation): WeightsEvaluation {
  return create(WeightsEvaluationSchema, {
    decisions: e.decisions,
    agreement: e.agreement,
    unsupported: e.unsupported,
    successRate: changeToWire(e.successRate),
    turnaroundMs: changeToWire(e.turnaroundMs),
    ...(e.cost ? { cost: changeToWire(e.cost) } : {}),
  });
}

function experimentToWire(x: DomainExperiment): WeightsExperiment {
  return create(WeightsExperimentSchema, { weights: weightsToWire(x.weights), fraction: x.fraction, startTime: timestampFromMs(x.startedAt) });
}

function armToWire(a: domain.ArmStats): ArmStats {
  return create(ArmStatsSchema, {
    arm: a.arm,
    placements: a.placements,
    decided: a.decided,
    successRate: intervalToWire(a.successRate),
    waitMs: intervalToWire(a.waitMs),
    turnaroundMs: intervalToWire(a.turnaroundMs),
    ...(a.cost ? { cost: intervalToWire(a.cost) } : {}),
  });
}

function comparisonToWire(c: domain.ArmComparison): ArmComparison {
  return create(ArmComparisonSchema, {
    control: armToWire(c.control),
    candidate: armToWire(c.candidate),
    successRate: intervalToWire(c.successRate),
    waitMs: intervalToWire(c.waitMs),
    turnaroundMs: intervalToWire(c.turnaroundMs),
    ...(c.cost ? { cost: intervalToWire(c.cost) } : {}),
  });
}

/**
 * Turns a SubmitJobRequest into the domain's JobSpec (enum and range errors name the field), and a
 * stored JobSpec (a schedule's template) back into the request it came from.
 */
import { create } from '@bufbuild/protobuf';
import { durationFromMs, durationMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { SubmitJobRequestSchema, type SubmitJobRequest } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { invalidArgument } from '../domain/errors.js';
import type { JobSpec, LabelRequirement } from '../domain/job.js';
import { LabelRequirementSchema } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { OPERATOR_TO_WIRE, operatorFromWire, policyFromWire, policyToWire, weightsFromWire, weightsToWire } from './convert.js';
import { DependencyFailurePolicy } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';

export function jobSpecFromRequest(req: SubmitJobRequest): JobSpec {
  const requiredLabels: LabelRequirement[] = req.requiredLabels.map((r, i) => {
    const operator = operatorFromWire(r.operator);
    if (!operator) throw invalidArgument(`required_labels[${i}].operator must be set to a known LABEL_OPERATOR_* value`);
    return { key: r.key, operator, values: [...r.values] };
  });
  const onDependencyFailure = policyFromWire(req.onDependencyFailure);
  if (!onDependencyFailure && req.onDependencyFailure !== DependencyFailurePolicy.UNSPECIFIED) {
    throw invalidArgument(`on_dependency_failure ${req.onDependencyFailure} is not a known DEPENDENCY_FAILURE_POLICY_* value`);
  }
  return {
    productId: req.productId,
    title: req.title,
    command: [...req.command],
    env: { ...req.env },
    requiredLabels,
    priority: req.priority,
    idempotencyKey: req.idempotencyKey,
    maxAttempts: req.maxAttempts,
    timeoutMs: req.timeout ? durationMs(req.timeout) : 0,
    ...(req.weights ? { weights: weightsFromWire(req.weights) } : {}),
    ...(req.dependsOn.length ? { dependsOn: [...req.dependsOn] } : {}),
    ...(onDependencyFailure ? { onDependencyFailure } : {}),
    ...(req.requireReview ? { requireReview: true } : {}),
    ...(req.completeWithChildren ? { completeWithChildren: true } : {}),
    ...(req.estimatedCost !== 0 ? { estimatedCost: req.estimatedCost } : {}),
    ...(req.costCeiling !== 0 ? { costCeiling: req.costCeiling } : {}),
    ...(req.runAt ? { runAt: timestampMs(req.runAt) } : {}),
    ...(req.delay ? { delayMs: durationMs(req.delay) } : {}),
    ...(req.concurrencyKey ? { concurrencyKey: req.concurrencyKey } : {}),
    ...(req.concurrencyLimit !== 0 ? { concurrencyLimit: req.concurrencyLimit } : {}),
    ...(req.reviewers.length ? { reviewers: [...req.reviewers], requireReview: true } : {}),
    ...(req.requiredApprovals !== undefined ? { requiredApprovals: req.requiredApprovals } : {}),
    ...(req.inputs.length ? { inputs: req.inputs.map(({ from, name, path }) => ({ from, name, path })) } : {}),
  };
}

/** The request a template was made from (the fields a schedule's template may carry). */
export function jobSpecToRequest(spec: JobSpec): SubmitJobRequest {
  return create(SubmitJobRequestSchema, {
    productId: spec.productId,
    title: spec.title,
    command: spec.command,
    env: spec.env,
    requiredLabels: spec.requiredLabels.map((r) => create(LabelRequirementSchema, { key: r.key, operator: OPERATOR_TO_WIRE[r.operator], values: r.values })),
    priority: spec.priority,
    maxAttempts: spec.maxAttempts,
    timeout: durationFromMs(spec.timeoutMs),
    weights: spec.weights ? weightsToWire(spec.weights) : undefined,
    onDependencyFailure: spec.onDependencyFailure ? policyToWire(spec.onDependencyFailure) : DependencyFailurePolicy.UNSPECIFIED,
    requireReview: spec.requireReview ?? false,
    completeWithChildren: spec.completeWithChildren ?? false,
    estimatedCost: spec.estimatedCost ?? 0,
    costCeiling: spec.costCeiling ?? 0,
    concurrencyKey: spec.concurrencyKey ?? '',
    concurrencyLimit: spec.concurrencyLimit ?? 0,
    reviewers: spec.reviewers ?? [],
    ...(spec.requiredApprovals !== undefined ? { requiredApprovals: spec.requiredApprovals } : {}),
  });
}

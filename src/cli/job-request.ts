/** The SubmitJobRequest that submit-flags.ts's flags describe (loaded when a command runs). */
import { create } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import { DependencyFailurePolicy } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { SubmitJobRequestSchema, type SubmitJobRequest } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { parseLabelFlag } from './label-flag.js';

export function jobRequestFromFlags(command: string[], opts: Record<string, unknown>): SubmitJobRequest {
  const env = Object.fromEntries(((opts.env as string[] | undefined) ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return create(SubmitJobRequestSchema, {
    productId: opts.product as string,
    title: (opts.title as string | undefined) ?? '',
    command,
    env,
    requiredLabels: ((opts.label as string[] | undefined) ?? []).map(parseLabelFlag),
    priority: opts.priority as number,
    maxAttempts: (opts.maxAttempts as number | undefined) ?? 0,
    timeout: opts.timeout === undefined ? undefined : durationFromMs((opts.timeout as number) * 1000),
    requireReview: Boolean(opts.requireReview),
    reviewers: (opts.reviewer as string[] | undefined) ?? [],
    ...(opts.requiredApprovals !== undefined ? { requiredApprovals: opts.requiredApprovals as number } : {}),
    estimatedCost: (opts.estimatedCost as number | undefined) ?? 0,
    costCeiling: (opts.costCeiling as number | undefined) ?? 0,
    concurrencyKey: (opts.concurrencyKey as string | undefined) ?? '',
    concurrencyLimit: (opts.concurrencyLimit as number | undefined) ?? 0,
    runAt: opts.runAt === undefined ? undefined : timestampFromMs(opts.runAt as number),
    delay: opts.delay === undefined ? undefined : durationFromMs(opts.delay as number),
    onDependencyFailure: DependencyFailurePolicy.UNSPECIFIED,
  });
}

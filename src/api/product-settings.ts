/** AdminService product settings: wire ↔ ProductSettings, validation naming the field. */
import { create } from '@bufbuild/protobuf';
import type { ProductSettings as WireProductSettings, SetProductSettingsRequest } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ProductSettingsSchema } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ArtifactRetentionSchema, type ArtifactRetention as WireRetention } from '../../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import { durationFromMs, durationMs } from '@bufbuild/protobuf/wkt';
import { checkRetention, type ArtifactRetention } from '../domain/artifact.js';
import { invalidArgument } from '../domain/errors.js';
import { resolveWeights, validateWeights } from '../domain/scheduler.js';
import type { Scheduling } from '../coordinator/scheduling.js';
import type { ProductSettings } from '../store/settings-store.js';
import { weightsFromWire, weightsToWire } from './convert.js';

const MIN_SHARE = 0.01;
const MAX_SHARE = 1_000;

export function productSettingsToWire(settings: ProductSettings, scheduling: Scheduling): WireProductSettings {
  return create(ProductSettingsSchema, {
    productId: settings.productId,
    weightOverrides: weightsToWire(settings.weights),
    effectiveWeights: weightsToWire(resolveWeights(scheduling.defaults, settings.weights, null)),
    shareWeight: settings.shareWeight,
    revision: BigInt(settings.revision),
    updateActor: settings.updatedBy,
    ...(settings.artifactRetention ? { artifactRetention: retentionToWire(settings.artifactRetention) } : {}),
  });
}

function retentionToWire(retention: ArtifactRetention): WireRetention {
  return create(ArtifactRetentionSchema, {
    ...(retention.maxAgeMs > 0 ? { maxAge: durationFromMs(retention.maxAgeMs) } : {}),
    maxTotalBytes: BigInt(retention.maxTotalBytes),
  });
}

function retentionFromWire(wire: WireRetention): ArtifactRetention {
  const maxAgeMs = wire.maxAge ? Math.round(durationMs(wire.maxAge)) : 0;
  return checkRetention({ maxAgeMs, maxTotalBytes: Number(wire.maxTotalBytes) });
}

/** The next settings record for a SetProductSettings call, validated. */
export function nextProductSettings(current: ProductSettings, req: SetProductSettingsRequest, actor: string, now: number): ProductSettings {
  const weights = validateWeights(req.weightOverrides ? weightsFromWire(req.weightOverrides) : {}, 'weight_overrides');
  if (req.shareWeight !== 0 && !(req.shareWeight >= MIN_SHARE && req.shareWeight <= MAX_SHARE)) {
    throw invalidArgument(`share_weight ${req.shareWeight} must be from ${MIN_SHARE} to ${MAX_SHARE} (0 keeps the current value)`);
  }
  return {
    ...current, // keeps what SetProductSettings does not own (the budget)
    productId: current.productId,
    weights,
    shareWeight: req.shareWeight === 0 ? current.shareWeight : req.shareWeight,
    ...(req.artifactRetention ? { artifactRetention: retentionFromWire(req.artifactRetention) } : {}),
    revision: current.revision + 1,
    updatedAt: now,
    updatedBy: actor,
  };
}

/**
 * FactoryService's artifact RPCs: wire ↔ coordinator/artifacts.ts. A factory token may speak only
 * for its own identity (factory_id must match it); without one (development mode) the request's
 * factory_id is taken as it comes, as hello's is.
 */
import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  FetchArtifactResponseSchema,
  FinishUploadResponseSchema,
  StartUploadResponseSchema,
  UploadChunksResponseSchema,
} from '../../gen/ts/gigafactory/fleet/v1/factory_artifacts_pb.js';
import type { FactoryService } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { ArtifactKind } from '../../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import type { Artifacts } from '../coordinator/artifacts.js';
import { DomainError, invalidArgument } from '../domain/errors.js';
import { principalOf } from './principal.js';
import { artifactToWire, kindFromWire, streamChunks } from './artifact-wire.js';

export type FactoryArtifactMethod = 'startUpload' | 'uploadChunks' | 'finishUpload' | 'fetchArtifact';

/** The factory token's identity, or null without one. */
function callerOf(ctx: HandlerContext): string | null {
  const principal = principalOf(ctx);
  return principal.kind === 'factory' ? principal.scope.factoryId : null;
}

/** The factory the request speaks for: its factory_id, which must be the token's. */
function speakingFor(ctx: HandlerContext, factoryId: string): string {
  if (!factoryId) throw invalidArgument('factory_id is required');
  const caller = callerOf(ctx);
  if (caller !== null && caller !== factoryId) throw new DomainError('permission_denied', `this factory token is for ${caller}, not ${factoryId.slice(0, 80)}`);
  return factoryId;
}

export function factoryArtifactsImpl(artifacts: Artifacts): Pick<ServiceImpl<typeof FactoryService>, FactoryArtifactMethod> {
  return {
    async startUpload(req, ctx) {
      const factoryId = speakingFor(ctx, req.factoryId);
      if (req.kind === ArtifactKind.UNSPECIFIED) throw invalidArgument('kind is required: ARTIFACT or CHECKPOINT');
      const started = await artifacts.startUpload({
        factoryId,
        jobId: req.jobId,
        epoch: Number(req.epoch),
        kind: kindFromWire(req.kind, 'artifact'),
        name: req.name,
        sizeBytes: Number(req.sizeBytes),
        sha256: req.sha256,
        contentType: req.contentType,
      });
      return create(StartUploadResponseSchema, {
        uploadId: started.uploadId,
        committedBytes: BigInt(started.committedBytes),
        ...(started.artifact ? { artifact: artifactToWire(started.artifact) } : {}),
      });
    },

    async uploadChunks(reqs, ctx) {
      async function* chunks(): AsyncGenerator<{ uploadId: string; offset: number; data: Uint8Array }> {
        for await (const req of reqs) yield { uploadId: req.uploadId, offset: Number(req.offset), data: req.data };
      }
      const held = await artifacts.appendChunks(callerOf(ctx), chunks());
      return create(UploadChunksResponseSchema, { committedBytes: BigInt(held) });
    },

    async finishUpload(req, ctx) {
      const artifact = await artifacts.finishUpload(callerOf(ctx), req.uploadId);
      return create(FinishUploadResponseSchema, { artifact: artifactToWire(artifact) });
    },

    async *fetchArtifact(req, ctx) {
      const factoryId = speakingFor(ctx, req.factoryId);
      if (!req.jobId) throw invalidArgument('job_id is required');
      const source = { jobId: req.sourceJobId || req.jobId, epoch: Number(req.sourceEpoch), kind: kindFromWire(req.kind, 'artifact'), name: req.name };
      const opened = await artifacts.fetchForJob(factoryId, req.jobId, Number(req.epoch), source, Number(req.offset));
      yield* streamChunks(opened, ctx.signal, (first, offset, data) => create(FetchArtifactResponseSchema, { ...(first ? { artifact: artifactToWire(opened.artifact) } : {}), offset: BigInt(offset), data }));
    },
  };
}

/** JobService's artifact RPCs (readers): list a job's files and download one as a stream. */
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { DownloadArtifactResponseSchema, ListArtifactsResponseSchema } from '../../gen/ts/gigafactory/fleet/v1/job_artifacts_pb.js';
import type { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import type { Artifacts } from '../coordinator/artifacts.js';
import { invalidArgument } from '../domain/errors.js';
import { artifactToWire, kindFromWire, streamChunks } from './artifact-wire.js';

export function artifactReadsImpl(artifacts: Artifacts): Pick<ServiceImpl<typeof JobService>, 'listArtifacts' | 'downloadArtifact'> {
  return {
    async listArtifacts(req) {
      if (!req.jobId) throw invalidArgument('job_id is required');
      const epoch = Number(req.epoch);
      if (epoch < 0) throw invalidArgument(`epoch must be 0 (every attempt) or more, not ${epoch}`);
      const kind = kindFromWire(req.kind, undefined);
      const listed = await artifacts.list(req.jobId, { ...(epoch > 0 ? { epoch } : {}), ...(kind ? { kind } : {}) });
      return create(ListArtifactsResponseSchema, { artifacts: listed.map(artifactToWire) });
    },

    async *downloadArtifact(req, ctx) {
      if (!req.jobId) throw invalidArgument('job_id is required');
      const epoch = Number(req.epoch);
      if (epoch < 0) throw invalidArgument(`epoch must be 0 (the latest attempt) or more, not ${epoch}`);
      const opened = await artifacts.open({ jobId: req.jobId, epoch, kind: kindFromWire(req.kind, 'artifact'), name: req.name }, Number(req.offset), Number(req.limit));
      yield* streamChunks(opened, ctx.signal, (first, offset, data) => create(DownloadArtifactResponseSchema, { ...(first ? { artifact: artifactToWire(opened.artifact) } : {}), offset: BigInt(offset), data }));
    },
  };
}

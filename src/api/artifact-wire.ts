/** Artifacts on the wire: Artifact ↔ ArtifactRecord, kinds, and a file's bytes as a message stream. */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { ArtifactKind, ArtifactSchema, type Artifact } from '../../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import { ARTIFACT_CHUNK_BYTES, type ArtifactKind as DomainKind, type ArtifactRecord } from '../domain/artifact.js';
import { invalidArgument } from '../domain/errors.js';
import type { OpenedArtifact } from '../coordinator/artifacts.js';

export function artifactToWire(a: ArtifactRecord): Artifact {
  return create(ArtifactSchema, {
    jobId: a.jobId,
    epoch: BigInt(a.epoch),
    kind: kindToWire(a.kind),
    name: a.name,
    sizeBytes: BigInt(a.sizeBytes),
    sha256: a.sha256,
    contentType: a.contentType,
    createTime: timestampFromMs(a.createdAt),
    productId: a.productId,
    factoryId: a.factoryId,
  });
}

export function kindToWire(kind: DomainKind): ArtifactKind {
  return kind === 'checkpoint' ? ArtifactKind.CHECKPOINT : ArtifactKind.ARTIFACT;
}

/** The kind a request names; UNSPECIFIED means `unspecified` (the RPC's default). */
export function kindFromWire<D extends DomainKind | undefined>(kind: ArtifactKind, unspecified: D): DomainKind | D {
  switch (kind) {
    case ArtifactKind.UNSPECIFIED:
      return unspecified;
    case ArtifactKind.ARTIFACT:
      return 'artifact';
    case ArtifactKind.CHECKPOINT:
      return 'checkpoint';
    default:
      throw invalidArgument(`kind ${String(kind)} is not an ArtifactKind`);
  }
}

/**
 * The opened bytes as messages of at most 1 MiB each, the first one always sent (it carries the
 * metadata, even for an empty file). Stops reading when the call ends.
 */
export async function* streamChunks<M>(opened: OpenedArtifact, signal: AbortSignal, message: (first: boolean, offset: number, data: Uint8Array) => M): AsyncGenerator<M> {
  let offset = opened.offset;
  let first = true;
  try {
    for await (const piece of opened.bytes) {
      const buf = piece as Buffer;
      for (let at = 0; at < buf.length; at += ARTIFACT_CHUNK_BYTES) {
        if (signal.aborted) return;
        const data = buf.subarray(at, at + ARTIFACT_CHUNK_BYTES);
        yield message(first, offset, data);
        first = false;
        offset += data.length;
      }
    }
    if (first) yield message(true, offset, new Uint8Array());
  } finally {
    opened.bytes.destroy();
  }
}

/**
 * Fetches a stored file for a job the factory holds (FactoryService.FetchArtifact): an upstream
 * job's artifact named as an input, or the job's own latest checkpoint. The bytes go to a ".part"
 * file beside the destination and are renamed into place only once their size and SHA-256 match
 * what the coordinator said, so a job never starts with a torn or corrupt file.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import type { Artifact } from '../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import {
  FetchArtifactRequestSchema,
  FetchArtifactResponseSchema,
  type FetchArtifactRequest,
  type FetchArtifactResponse,
} from '../gen/ts/gigafactory/fleet/v1/factory_artifacts_pb.js';

export const FETCH_ARTIFACT_METHOD = '/gigafactory.fleet.v1.FactoryService/FetchArtifact';

export type FetchRequest = MessageInitShape<typeof FetchArtifactRequestSchema>;

/** The channel and credentials of the agent's current connection. */
export interface FetchChannel {
  client: grpc.Client;
  metadata: grpc.Metadata;
}

/** The coordinator refused or broke off a fetch: its status code and message. */
export class ArtifactFetchError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = 'ArtifactFetchError';
  }

  /** NOT_FOUND: for a checkpoint, simply none saved yet. */
  get notFound(): boolean {
    return this.code === grpc.status.NOT_FOUND;
  }
}

/**
 * Streams the file to `dest` (its directories are created) and returns its metadata. Rejects with
 * an ArtifactFetchError (the coordinator's status) or an Error saying what went wrong (size or digest).
 */
export async function fetchArtifactToFile(channel: FetchChannel, request: FetchRequest, dest: string, signal?: AbortSignal): Promise<Artifact> {
  await mkdir(path.dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  const out = createWriteStream(part, { mode: 0o600 });
  const hash = createHash('sha256');
  let artifact: Artifact | undefined;
  let received = 0;
  try {
    const call = channel.client.makeServerStreamRequest<FetchArtifactRequest, FetchArtifactResponse>(
      FETCH_ARTIFACT_METHOD,
      (m) => Buffer.from(toBinary(FetchArtifactRequestSchema, m)),
      (bytes) => fromBinary(FetchArtifactResponseSchema, bytes),
      create(FetchArtifactRequestSchema, request),
      channel.metadata,
      {},
    );
    const cancel = (): void => call.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      for await (const message of call as AsyncIterable<FetchArtifactResponse>) {
        artifact ??= message.artifact;
        if (message.offset !== BigInt(received)) throw new Error(`the coordinator sent bytes at offset ${message.offset}, expected ${received}`);
        hash.update(message.data);
        received += message.data.length;
        if (!out.write(message.data)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      }
    } catch (err) {
      throw statusError(err);
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (!artifact) throw new Error('the coordinator sent no metadata for the file');
    const digest = hash.digest('hex');
    if (BigInt(received) !== artifact.sizeBytes) throw new Error(`received ${received} bytes of "${artifact.name}", expected ${artifact.sizeBytes}`);
    if (digest !== artifact.sha256) throw new Error(`"${artifact.name}" arrived with SHA-256 ${digest}, expected ${artifact.sha256}`);
    await rename(part, dest);
    return artifact;
  } catch (err) {
    out.destroy();
    await rm(part, { force: true });
    throw err;
  }
}

/** A grpc status as an ArtifactFetchError with a readable message. */
function statusError(err: unknown): Error {
  const status = err as Partial<grpc.ServiceError>;
  if (typeof status.code !== 'number') return err instanceof Error ? err : new Error(String(err));
  return new ArtifactFetchError(status.code, `${grpc.status[status.code] ?? status.code}: ${status.details || status.message}`);
}

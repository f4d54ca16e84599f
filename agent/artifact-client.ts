/**
 * The agent's artifact RPCs (FactoryService.StartUpload, UploadChunks, FinishUpload) over grpc-js,
 * built without code generation like grpc-client.ts. Uploads use their own channel: the factory
 * stream's heartbeats never queue behind a file's bytes (nor share a TCP window with them), and a
 * stream reconnect does not cut an upload.
 */
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  FinishUploadRequestSchema,
  FinishUploadResponseSchema,
  StartUploadRequestSchema,
  StartUploadResponseSchema,
  UploadChunksRequestSchema,
  UploadChunksResponseSchema,
  type FinishUploadResponse,
  type StartUploadResponse,
  type UploadChunksRequest,
  type UploadChunksResponse,
} from '../gen/ts/gigafactory/fleet/v1/factory_artifacts_pb.js';

const SERVICE = '/gigafactory.fleet.v1.FactoryService';
/** A unary call that takes longer than this is given up (and retried from what the coordinator holds). */
const UNARY_DEADLINE_MS = 60_000;

function serializer<S extends DescMessage>(schema: S): (m: MessageShape<S>) => Buffer {
  return (m) => {
    const bytes = toBinary(schema, m);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer<S extends DescMessage>(schema: S): (b: Buffer) => MessageShape<S> {
  return (b) => fromBinary(schema, b);
}

export class ArtifactClient {
  constructor(
    private readonly client: grpc.Client,
    private readonly metadata: () => grpc.Metadata,
  ) {}

  startUpload(req: MessageInitShape<typeof StartUploadRequestSchema>): Promise<StartUploadResponse> {
    return this.#unary('StartUpload', StartUploadRequestSchema, StartUploadResponseSchema, req);
  }

  finishUpload(uploadId: string): Promise<FinishUploadResponse> {
    return this.#unary('FinishUpload', FinishUploadRequestSchema, FinishUploadResponseSchema, { uploadId });
  }

  /**
   * Streams `chunks` as one UploadChunks call, waiting for the transport to drain between writes
   * (grpc-js buffers without bound otherwise); resolves with the coordinator's answer.
   */
  uploadChunks(chunks: AsyncIterable<MessageInitShape<typeof UploadChunksRequestSchema>>, signal: AbortSignal): Promise<UploadChunksResponse> {
    return new Promise((resolve, reject) => {
      const call = this.client.makeClientStreamRequest<UploadChunksRequest, UploadChunksResponse>(
        `${SERVICE}/UploadChunks`,
        serializer(UploadChunksRequestSchema),
        deserializer(UploadChunksResponseSchema),
        this.metadata(),
        {},
        (err, response) => (err || !response ? reject(err ?? new Error('UploadChunks returned nothing')) : resolve(response)),
      );
      const cancel = (): void => call.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      call.once('status', () => signal.removeEventListener('abort', cancel));
      void (async () => {
        try {
          for await (const chunk of chunks) {
            if (!call.write(create(UploadChunksRequestSchema, chunk))) await new Promise((r) => call.once('drain', r));
          }
          call.end();
        } catch (err) {
          // Reading the file failed: cancel the call (the coordinator keeps what it acknowledged) and report why.
          call.cancel();
          reject(err as Error);
        }
      })();
    });
  }

  close(): void {
    this.client.close();
  }

  #unary<I extends DescMessage, O extends DescMessage>(method: string, input: I, output: O, req: MessageInitShape<I>): Promise<MessageShape<O>> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        `${SERVICE}/${method}`,
        serializer(input),
        deserializer(output),
        create(input, req),
        this.metadata(),
        { deadline: Date.now() + UNARY_DEADLINE_MS },
        (err, response) => (err || !response ? reject(err ?? new Error(`${method} returned nothing`)) : resolve(response)),
      );
    });
  }
}

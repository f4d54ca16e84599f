/**
 * The agent's only transport module: a grpc-js client for `FactoryService.Connect`, built without
 * code generation. The wire format is the protobuf-es schema, so the agent and the coordinator share
 * one contract and nothing else.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  ConnectRequestSchema,
  ConnectResponseSchema,
  EnrollRequestSchema,
  EnrollResponseSchema,
  type ConnectRequest,
  type ConnectResponse,
  type EnrollResponse,
} from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';

/** Full method path, as grpc-js routes it. */
export const CONNECT_METHOD = '/gigafactory.fleet.v1.FactoryService/Connect';
export const ENROLL_METHOD = '/gigafactory.fleet.v1.FactoryService/Enroll';

/** The factory stream: the agent writes ConnectRequest and reads ConnectResponse. */
export type FactoryStream = grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>;

export interface FactoryClientOptions {
  /**
   * How often to ping an idle connection. A NAT or load balancer that silently drops the connection
   * would otherwise leave the agent waiting forever while its leases expire. Servers built on
   * grpc-core must permit pings this often (`grpc.http2.min_ping_interval_without_data_ms`).
   */
  keepaliveTimeMs?: number;
  /** How long a ping may go unanswered before the connection is declared dead. */
  keepaliveTimeoutMs?: number;
  /**
   * Largest message either way. A lease offer carries the whole job (command, env), so the 4 MiB
   * grpc default receive limit is raised; log chunks stay far below it.
   */
  maxMessageBytes?: number;
}

export const DEFAULT_FACTORY_CLIENT_OPTIONS: Required<FactoryClientOptions> = {
  keepaliveTimeMs: 30_000,
  keepaliveTimeoutMs: 10_000,
  maxMessageBytes: 16 * 1024 * 1024,
};

/**
 * Creates the channel to the coordinator. Create one client per connection attempt and `close()` it
 * when the stream ends: a fresh channel dials at once, so `reconnect.ts` stays the only back-off
 * loop (a reused channel would add grpc-js's own subchannel back-off on top of it).
 */
export function createFactoryClient(
  address: string,
  credentials: grpc.ChannelCredentials,
  options: FactoryClientOptions = {},
): grpc.Client {
  const o = { ...DEFAULT_FACTORY_CLIENT_OPTIONS, ...options };
  return new grpc.Client(address, credentials, {
    'grpc.keepalive_time_ms': o.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': o.keepaliveTimeoutMs,
    // The stream is idle between heartbeats; pings must still flow to notice a dead peer.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': o.maxMessageBytes,
    'grpc.max_send_message_length': o.maxMessageBytes,
  });
}

export interface OpenFactoryStreamOptions {
  /** Sent as request headers, for example `authorization: Bearer <factory token>`. */
  metadata?: grpc.Metadata;
  /** Cancels the call (status CANCELLED) when aborted, e.g. on agent shutdown. */
  signal?: AbortSignal;
}

/**
 * Opens `FactoryService.Connect`. No deadline: the stream lives until either side closes it. The
 * call fails fast (UNAVAILABLE) when the coordinator cannot be reached rather than waiting for it,
 * so the caller's reconnect policy decides when to try again.
 */
export function openFactoryStream(client: grpc.Client, opts: OpenFactoryStreamOptions = {}): FactoryStream {
  const stream = client.makeBidiStreamRequest<ConnectRequest, ConnectResponse>(
    CONNECT_METHOD,
    serializeConnectRequest,
    deserializeConnectResponse,
    opts.metadata ?? new grpc.Metadata(),
    {},
  );
  const { signal } = opts;
  if (signal) {
    const cancel = (): void => stream.cancel();
    if (signal.aborted) cancel();
    else {
      signal.addEventListener('abort', cancel, { once: true });
      // Without this the listener (and the stream it holds) would outlive the call; every call
      // ends with exactly one 'status', whoever ends it.
      stream.once('status', () => signal.removeEventListener('abort', cancel));
    }
  }
  return stream;
}

export function serializeConnectRequest(message: ConnectRequest): Buffer {
  const bytes = toBinary(ConnectRequestSchema, message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throws on malformed bytes; grpc-js turns that into an INTERNAL status on the stream. */
export function deserializeConnectResponse(bytes: Buffer): ConnectResponse {
  return fromBinary(ConnectResponseSchema, bytes);
}

/** `authorization: Bearer <token>` request metadata; empty metadata without a token. */
export function bearerMetadata(token: string | null): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/**
 * Calls `FactoryService.Enroll` with the one-time enrollment token; resolves with the factory's
 * identity and token, or rejects with the grpc ServiceError (UNAUTHENTICATED for a used, expired
 * or unknown token).
 */
export function enrollFactory(client: grpc.Client, enrollmentToken: string, factoryId: string, deadlineMs = 15_000): Promise<EnrollResponse> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      ENROLL_METHOD,
      (m: { factoryId: string }) => Buffer.from(toBinary(EnrollRequestSchema, create(EnrollRequestSchema, m))),
      (bytes: Buffer) => fromBinary(EnrollResponseSchema, bytes),
      { factoryId },
      bearerMetadata(enrollmentToken),
      { deadline: Date.now() + deadlineMs },
      (err, response) => (err || !response ? reject(err ?? new Error('Enroll returned nothing')) : resolve(response)),
    );
  });
}

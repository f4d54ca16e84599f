import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConnectRequestSchema,
  ConnectResponseSchema,
  type ConnectRequest,
  type ConnectResponse,
} from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { createFactoryClient, openFactoryStream, type FactoryStream } from '../../agent/grpc-client.js';
import { factoryServiceDefinition, listenOnLoopback } from './helpers.js';

/** A coordinator stand-in: answers hello with a welcome naming the caller's token, echoes the rest. */
function startServer(): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server();
  server.addService(factoryServiceDefinition, {
    Connect: (call: grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>) => {
      const token = String(call.metadata.get('authorization')[0] ?? '');
      call.on('data', (req: ConnectRequest) => {
        if (req.kind.case === 'hello') {
          call.write(create(ConnectResponseSchema, { kind: { case: 'welcome', value: { sessionId: `${req.kind.value.factoryId}/${token}` } } }));
        } else if (req.kind.case === 'heartbeat') {
          call.write(create(ConnectResponseSchema, { kind: { case: 'heartbeatAck', value: { sequence: req.kind.value.sequence } } }));
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
  });
  return listenOnLoopback(server);
}

function nextMessage(stream: FactoryStream): Promise<ConnectResponse> {
  return new Promise((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });
}

function statusOf(stream: FactoryStream): Promise<grpc.StatusObject> {
  return new Promise((resolve) => stream.once('status', resolve));
}

describe('factory gRPC client', () => {
  let server: grpc.Server;
  let address: string;
  let client: grpc.Client;
  beforeEach(async () => ({ server, address } = await startServer()));
  afterEach(() => {
    client.close();
    server.forceShutdown();
  });

  it('speaks Connect with protobuf-es messages and sends the metadata', async () => {
    client = createFactoryClient(address, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer f-token');
    const stream = openFactoryStream(client, { metadata });
    stream.on('error', () => {});

    stream.write(create(ConnectRequestSchema, { kind: { case: 'hello', value: { factoryId: 'factory-1', slots: 2 } } }));
    const welcome = await nextMessage(stream);
    expect(welcome.kind).toMatchObject({ case: 'welcome', value: { sessionId: 'factory-1/Bearer f-token' } });

    stream.write(create(ConnectRequestSchema, { kind: { case: 'heartbeat', value: { sequence: 41n } } }));
    expect((await nextMessage(stream)).kind).toMatchObject({ case: 'heartbeatAck', value: { sequence: 41n } });

    const status = statusOf(stream);
    stream.end();
    expect((await status).code).toBe(grpc.status.OK);
  });

  it('fails fast with UNAVAILABLE when nothing listens, leaving the retry to the reconnect policy', async () => {
    server.forceShutdown();
    client = createFactoryClient(address, grpc.credentials.createInsecure());
    const stream = openFactoryStream(client);
    const error = await new Promise<grpc.ServiceError>((resolve) => stream.once('error', resolve));
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('cancels the call when the signal aborts', async () => {
    client = createFactoryClient(address, grpc.credentials.createInsecure());
    const controller = new AbortController();
    const stream = openFactoryStream(client, { signal: controller.signal });
    stream.on('error', () => {});
    stream.write(create(ConnectRequestSchema, { kind: { case: 'hello', value: { factoryId: 'f', slots: 1 } } }));
    await nextMessage(stream);
    const status = statusOf(stream);
    controller.abort();
    expect((await status).code).toBe(grpc.status.CANCELLED);
  });
});

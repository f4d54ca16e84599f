/**
 * A factory that never reads its stream while it keeps sending cannot make the coordinator queue
 * for it without end: once MAX_UNSENT_MESSAGES answers wait, the call is ended RESOURCE_EXHAUSTED
 * (the status is queued behind what the factory has not read), the session is broken as for any
 * lost stream, and the coordinator stops reading what the factory sends.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import * as http2 from 'node:http2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectRequestSchema } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { MAX_UNSENT_MESSAGES } from '../../src/api/factory-service.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** One gRPC length-prefixed message. */
function frame(message: Parameters<typeof toBinary<typeof ConnectRequestSchema>>[1]): Buffer {
  const body = toBinary(ConnectRequestSchema, message);
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(body.length, 1);
  out.set(body, 5);
  return out;
}

it('ends the stream of a factory that stops reading, and forgets its session', async () => {
  // A raw HTTP/2 client that never reads its response: its receive window fills, and the
  // coordinator's answers have nowhere to go.
  const session = http2.connect(server.grpcUrl);
  session.on('error', () => {});
  const stream = session.request({ ':method': 'POST', ':path': '/gigafactory.fleet.v1.FactoryService/Connect', 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => {});
  const admin = createClient(AdminService, createGrpcTransport({ baseUrl: server.grpcUrl }));
  stream.write(frame(create(ConnectRequestSchema, { kind: { case: 'hello', value: { factoryId: 'deaf', slots: 1, agentVersion: 'test' } } })));
  await expect.poll(async () => (await admin.listFactories({})).factories.map((f) => f.id)).toContain('deaf');

  // Heartbeats, each answered, never read: write until the coordinator stops taking them.
  let sequence = 0n;
  let stalled = false;
  const deadline = Date.now() + 20_000;
  while (!stalled && Date.now() < deadline) {
    if (!stream.write(frame(create(ConnectRequestSchema, { kind: { case: 'heartbeat', value: { sequence: ++sequence } } })))) {
      stalled = !(await Promise.race([new Promise<boolean>((resolve) => stream.once('drain', () => resolve(true))), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1_000))]));
    }
  }
  expect(stalled).toBe(true);
  expect(Number(sequence)).toBeGreaterThan(MAX_UNSENT_MESSAGES);
  // The coordinator let go of the session without waiting for the factory to read.
  await expect.poll(async () => (await admin.listFactories({})).factories.map((f) => f.id), { timeout: 10_000 }).not.toContain('deaf');

  // And the coordinator is undisturbed: another factory connects and is listed.
  const other = http2.connect(server.grpcUrl);
  other.on('error', () => {});
  const otherStream = other.request({ ':method': 'POST', ':path': '/gigafactory.fleet.v1.FactoryService/Connect', 'content-type': 'application/grpc', te: 'trailers' });
  otherStream.on('error', () => {});
  otherStream.resume();
  otherStream.write(frame(create(ConnectRequestSchema, { kind: { case: 'hello', value: { factoryId: 'listening', slots: 1, agentVersion: 'test' } } })));
  await expect.poll(async () => (await admin.listFactories({})).factories.map((f) => f.id)).toContain('listening');
  other.close();
  session.close();
});

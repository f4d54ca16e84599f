/**
 * The attack suite's hostile clients, each on loopback and bounded: raw HTTP/1.1 bodies that are
 * never finished, a factory that floods its stream and never reads the answers (a raw grpc-js
 * client), and followers that open WatchJobs or TailLogs and stop reading, on either listener.
 */
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { bearerMetadata, createFactoryClient, openFactoryStream, type FactoryStream } from '../../agent/grpc-client.js';
import { ConnectRequestSchema } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { codeName } from './helpers.js';

/** A raw HTTP/1.1 request: headers, then only `sent` bytes of a body announced as `length`; the socket is left open. */
export function halfSent(port: number, path: string, headers: Record<string, string>, length: number, sent: number): net.Socket {
  const socket = net.connect(port, '127.0.0.1', () => {
    const head = Object.entries({ host: 'x', 'content-length': String(length), ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
    socket.write(Buffer.alloc(sent, 0x5b));
  });
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  return socket;
}

/** POSTs a body as is; resolves with the HTTP status, or 0 when the coordinator reset the connection. */
export function rawPost(httpUrl: string, path: string, body: Uint8Array | string, headers: Record<string, string>): Promise<number> {
  return fetch(`${httpUrl}${path}`, { method: 'POST', body: body as BodyInit, headers }).then(
    async (res) => (await res.arrayBuffer(), res.status),
    () => 0, // a reset after a refusal from the headers is an answer too
  );
}

/**
 * A factory that says hello with `slots` and then sends heartbeats, each listing twice its slots in
 * jobs it does not hold (each earns a lease_revoked answer), and never reads its stream: a raw
 * grpc-js call with no reader, so HTTP/2 flow control leaves the coordinator's answers waiting.
 */
export class DeafFactory {
  private readonly client: grpc.Client;
  private readonly call: FactoryStream;
  heartbeats = 0;

  constructor(grpcAddress: string, factoryToken: string) {
    this.client = createFactoryClient(grpcAddress, grpc.credentials.createInsecure());
    this.call = openFactoryStream(this.client, { metadata: bearerMetadata(factoryToken) });
    this.call.on('error', () => undefined);
  }

  /** Writes hello, then heartbeats until `maxHeartbeats` or until the coordinator has taken none of them for `stallMs`. */
  async flood(factoryId: string, slots: number, maxHeartbeats: number, stallMs = 2_000): Promise<void> {
    this.call.write(create(ConnectRequestSchema, { kind: { case: 'hello', value: { factoryId, slots, agentVersion: 'attack', runningJobs: [] } } }));
    const unknown = Array.from({ length: 2 * slots }, (_, i) => ({ jobId: `job_not_held_${i}`, epoch: 1n }));
    while (this.heartbeats < maxHeartbeats) {
      this.heartbeats++;
      const room = this.call.write(create(ConnectRequestSchema, { kind: { case: 'heartbeat', value: { sequence: BigInt(this.heartbeats), runningJobs: unknown } } }));
      if (room) continue;
      let timer: NodeJS.Timeout | undefined;
      const taken = await Promise.race([new Promise<boolean>((resolve) => this.call.once('drain', () => resolve(true))), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), stallMs)))]);
      clearTimeout(timer);
      if (!taken) return;
    }
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** How a follower that was not read ended: the messages that waited for it, and its status. */
export interface Drained<T> {
  messages: T[];
  /** The status code's name, as helpers.codeName gives it ('ok' for a clean end). */
  code: string;
  message: string;
}

export interface StalledFollower<T> {
  /** Reads what waited, to the end of the call. */
  drain(): Promise<Drained<T>>;
}

/**
 * A server-streaming call on the native listener over raw HTTP/2 that reads nothing until `drain()`:
 * its receive window fills and the coordinator's messages wait on the coordinator's side.
 */
export function stalledNativeFollower<I extends DescMessage, O extends DescMessage>(grpcUrl: string, method: string, input: I, output: O, request: MessageShape<I>, apiKey: string): StalledFollower<MessageShape<O>> {
  const session = http2.connect(grpcUrl);
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': method, 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${apiKey}` });
  stream.on('error', () => undefined);
  let status: http2.IncomingHttpHeaders = {};
  stream.on('response', (headers) => (status = headers)); // a trailers-only answer carries the status here
  stream.on('trailers', (trailers) => (status = trailers));
  stream.end(envelope(0, toBinary(input, request)));
  return {
    drain: async () => {
      const body = await readAll(stream);
      session.close();
      const messages = envelopes(body).map((e) => fromBinary(output, e.data));
      const code = Number(status['grpc-status'] ?? 2);
      return { messages, code: code === 0 ? 'ok' : codeName(code), message: decodeURIComponent(String(status['grpc-message'] ?? '')) };
    },
  };
}

/**
 * The same on the gateway: a Connect streaming call over raw HTTP/1.1 whose response is not read
 * until `drain()`, so the socket's buffers fill and the coordinator's messages wait on its side.
 */
export function stalledGatewayFollower<I extends DescMessage, O extends DescMessage>(httpUrl: string, method: string, input: I, output: O, request: MessageShape<I>, apiKey: string): StalledFollower<MessageShape<O>> {
  const req = http.request(`${httpUrl}${method}`, { method: 'POST', headers: { 'content-type': 'application/connect+proto', 'connect-protocol-version': '1', authorization: `Bearer ${apiKey}` } });
  req.on('error', () => undefined);
  // A listener that does not read: without one, node would read the answer away.
  const response = new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
  req.end(envelope(0, toBinary(input, request)));
  return {
    drain: async () => {
      const frames = envelopes(await readAll(await response));
      const end = frames.find((f) => f.flags & END_STREAM);
      const error = end ? (JSON.parse(Buffer.from(end.data).toString('utf8')) as { error?: { code: string; message?: string } }).error : { code: 'unknown', message: 'no end-stream message' };
      const messages = frames.filter((f) => !(f.flags & END_STREAM)).map((f) => fromBinary(output, f.data));
      return { messages, code: error ? pascalCase(error.code) : 'ok', message: error?.message ?? '' };
    },
  };
}

/** Connect's end-stream flag on an envelope. */
const END_STREAM = 0x02;

/** One length-prefixed message, as gRPC and Connect streaming frame them. */
function envelope(flags: number, data: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + data.length);
  out.writeUInt8(flags, 0);
  out.writeUInt32BE(data.length, 1);
  out.set(data, 5);
  return out;
}

function envelopes(body: Buffer): { flags: number; data: Uint8Array }[] {
  const out: { flags: number; data: Uint8Array }[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push({ flags: body[at]!, data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  try {
    for await (const part of stream) parts.push(part);
  } catch {
    // a reset after the status: what arrived is what counts
  }
  return Buffer.concat(parts);
}

/** 'resource_exhausted' -> 'ResourceExhausted', the name codeName gives the same code. */
function pascalCase(code: string): string {
  return code.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

/**
 * Hostile and broken clients: connections that never authenticate are dropped at the deadline, and
 * 10,000 malformed frames and random bytes on each listener (raw TCP, raw HTTP/2 frames, well-formed
 * HTTP/2 and HTTP/1.1 requests with broken bodies) leave the process up and answering the next good
 * request. Nothing here sleeps: every wait is for a socket or stream event.
 */
import { Code } from '@connectrpc/connect';
import { randomBytes, randomInt } from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { gatewayClient, grpcClient, startSecureServer, type SecureServer } from './helpers.js';

let server: SecureServer;

beforeAll(async () => {
  server = await startSecureServer({ unauthenticatedDeadlineMs: 300, keyRequestBurst: 100_000, keyRequestsPerSecond: 100_000 });
});
afterAll(() => server.stop());

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** An empty SETTINGS frame: a valid start of an HTTP/2 connection. */
const H2_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

const RPC_PATHS = [
  '/gigafactory.fleet.v1.JobService/SubmitJob',
  '/gigafactory.fleet.v1.JobService/GetJob',
  '/gigafactory.fleet.v1.JobService/WatchJobs',
  '/gigafactory.fleet.v1.AdminService/CreateApiKey',
  '/gigafactory.fleet.v1.FactoryService/Connect',
  '/gigafactory.fleet.v1.FactoryService/Enroll',
  '/gigafactory.fleet.v1.NoSuchService/Nope',
];

/** Resolves when the server closes the socket; `send` is written on connect. */
function closedByServer(port: number, send: Buffer[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      for (const chunk of send) socket.write(chunk);
    });
    socket.on('data', () => undefined);
    socket.on('error', () => undefined); // a reset is a close too
    socket.once('close', () => resolve());
    setTimeout(() => reject(new Error('the server kept a silent connection open')), 10_000).unref();
  });
}

/** Writes `chunks` on a fresh connection, ending with a half-close; resolves when the socket is gone. */
function spray(port: number, chunks: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      for (const chunk of chunks) if (!socket.destroyed) socket.write(chunk);
      socket.end();
    });
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.once('close', () => resolve());
    socket.setTimeout(3_000, () => socket.destroy());
  });
}

/** A frame header with random length, type, flags and stream id, and a random payload. */
function randomFrame(): Buffer {
  const length = randomInt(0, 64);
  const header = Buffer.alloc(9);
  header.writeUIntBE(randomInt(0, 2) === 0 ? length : randomInt(0, 1 << 24), 0, 3);
  header[3] = randomInt(0, 16); // DATA, HEADERS, ..., CONTINUATION and unknown types
  header[4] = randomInt(0, 256);
  header.writeUInt32BE(randomInt(0, 2 ** 31), 5);
  return Buffer.concat([header, randomBytes(length)]);
}

/** A gRPC length-prefixed message that lies: wrong length, compressed flag, garbage protobuf. */
function brokenGrpcBody(): Buffer {
  switch (randomInt(0, 4)) {
    case 0:
      return randomBytes(randomInt(0, 40));
    case 1: {
      const body = randomBytes(randomInt(0, 40));
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(body.length + randomInt(1, 1_000_000), 1);
      return Buffer.concat([prefix, body]);
    }
    case 2: {
      const body = randomBytes(randomInt(1, 40));
      const prefix = Buffer.from([1, 0, 0, 0, 0]); // "compressed" without a compression
      prefix.writeUInt32BE(body.length, 1);
      return Buffer.concat([prefix, body]);
    }
    default: {
      const body = randomBytes(randomInt(1, 200));
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(body.length, 1);
      return Buffer.concat([prefix, body]);
    }
  }
}

async function inBatches(total: number, concurrency: number, one: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await one(next++);
    }),
  );
}

/** The process still answers: a real RPC on each listener and the health check. */
async function stillServing(): Promise<void> {
  await expect(grpcClient(JobService, server, server.keys.viewer).getJob({ jobId: 'job_after_fuzz' })).rejects.toMatchObject({ code: Code.NotFound });
  await expect(gatewayClient(JobService, server, server.keys.viewer).getJob({ jobId: 'job_after_fuzz' })).rejects.toMatchObject({ code: Code.NotFound });
  const { job } = await grpcClient(JobService, server, server.keys.operator).submitJob({ productId: 'after-fuzz', command: ['true'] });
  expect(job!.id).toMatch(/^job_/);
  expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
}

describe('the unauthenticated deadline', () => {
  it('closes a native gRPC connection that sends nothing', async () => {
    await closedByServer(server.grpc.port);
  });

  it('closes a native gRPC connection that opens HTTP/2 but never a stream', async () => {
    await closedByServer(server.grpc.port, [H2_PREFACE, H2_SETTINGS]);
  });

  it('closes a gateway connection that sends nothing', async () => {
    await closedByServer(server.http.port);
  });

  it('closes a gateway connection that never finishes its request headers', async () => {
    await closedByServer(server.http.port, [Buffer.from('POST /gigafactory.fleet.v1.JobService/GetJob HTTP/1.1\r\nHost: x\r\n')]);
  });
});

describe('10,000 malformed frames and random bytes', () => {
  it('native gRPC listener: random bytes, random HTTP/2 frames, broken gRPC messages', async () => {
    const port = server.grpc.port;
    // 2,000 chunks of random bytes, 20 per connection.
    await inBatches(100, 50, () => spray(port, Array.from({ length: 20 }, () => randomBytes(randomInt(1, 512)))));
    // 6,000 random HTTP/2 frames after a valid preface, 40 per connection.
    await inBatches(150, 75, () => spray(port, [H2_PREFACE, H2_SETTINGS, ...Array.from({ length: 40 }, randomFrame)]));
    // 2,000 well-formed HTTP/2 requests with broken gRPC bodies, half of them authenticated.
    const session = http2.connect(server.grpcUrl);
    session.on('error', () => undefined);
    const statuses = new Map<string, number>();
    const messages = new Set<string>();
    await inBatches(2_000, 64, (i) =>
      new Promise<void>((resolve) => {
        const headers: http2.OutgoingHttpHeaders = {
          ':method': i % 10 === 0 ? 'GET' : 'POST',
          ':path': RPC_PATHS[i % RPC_PATHS.length]!,
          'content-type': i % 7 === 0 ? 'application/json' : 'application/grpc',
          te: 'trailers',
          ...(i % 2 === 0 ? { authorization: `Bearer ${server.keys.admin}` } : {}),
        };
        const stream = session.request(headers);
        let status = 'none';
        const noteMessage = (m: unknown): void => void (typeof m === 'string' && messages.add(decodeURIComponent(m)));
        stream.on('response', (h) => {
          status = String(h['grpc-status'] ?? h[':status']);
          noteMessage(h['grpc-message']);
        });
        stream.on('trailers', (t) => {
          status = String(t['grpc-status'] ?? status);
          noteMessage(t['grpc-message']);
        });
        stream.on('data', () => undefined);
        stream.on('error', () => undefined);
        // Random bytes sometimes parse as a valid WatchJobs request, which rightly streams forever.
        stream.setTimeout(2_000, () => {
          status = 'streaming';
          stream.close(http2.constants.NGHTTP2_CANCEL);
        });
        stream.on('close', () => {
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          resolve();
        });
        stream.end(brokenGrpcBody());
      }),
    );
    session.close();
    // Every request got a status with a message saying what was wrong (the framework answers broken
    // framing and unparsable protobuf itself: "incomplete envelope", "parse binary: premature EOF");
    // none was an internal fault of the coordinator (those carry an incident id).
    expect(statuses.get('none')).toBeUndefined();
    expect(statuses.get(String(Code.Unknown))).toBeUndefined();
    expect([...messages].filter((m) => m.includes('incident'))).toEqual([]);
    await stillServing();
  });

  it('HTTP/1.1 gateway: random bytes, broken HTTP, broken Connect and gRPC-Web bodies', async () => {
    const port = server.http.port;
    // 2,000 chunks of random bytes, 20 per connection.
    await inBatches(100, 50, () => spray(port, Array.from({ length: 20 }, () => randomBytes(randomInt(1, 512)))));
    // 6,000 broken HTTP/1.1 messages: bad request lines, bad headers, bad chunked bodies, HTTP/2 frames.
    const broken = (): Buffer => {
      switch (randomInt(0, 4)) {
        case 0:
          return Buffer.from(`${randomBytes(8).toString('hex')} /${randomBytes(4).toString('hex')} HTTP/9.9\r\n\r\n`);
        case 1:
          return Buffer.from(`POST /gigafactory.fleet.v1.JobService/GetJob HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nX: \u0000\r\n\r\n`);
        case 2:
          return Buffer.from(`POST /gigafactory.fleet.v1.JobService/GetJob HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n${randomBytes(16).toString('hex')}\r\n`);
        default:
          return randomFrame();
      }
    };
    await inBatches(150, 75, () => spray(port, Array.from({ length: 40 }, broken)));
    // 2,000 well-formed requests with broken bodies and content types, half of them authenticated.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const CONTENT_TYPES = ['application/json', 'application/proto', 'application/connect+json', 'application/grpc-web+proto', 'application/grpc-web-text', 'text/plain'];
    const statuses = new Map<number, number>();
    const incidents: string[] = [];
    await inBatches(2_000, 32, (i) =>
      new Promise<void>((resolve) => {
        const body = i % 3 === 0 ? Buffer.from(`{"jobId": ${randomBytes(6).toString('hex')}`) : brokenGrpcBody();
        const req = http.request(
          {
            agent,
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: RPC_PATHS[i % RPC_PATHS.length],
            headers: {
              'content-type': CONTENT_TYPES[i % CONTENT_TYPES.length],
              'content-length': body.length,
              ...(i % 2 === 0 ? { authorization: `Bearer ${server.keys.admin}` } : {}),
            },
          },
          (res) => {
            statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
            res.on('end', () => {
              if (text.includes('incident')) incidents.push(text);
              resolve();
            });
            res.on('error', () => resolve());
          },
        );
        req.on('error', () => resolve());
        req.setTimeout(2_000, () => req.destroy()); // a body that parses as a WatchJobs request streams forever
        req.end(body);
      }),
    );
    agent.destroy();
    // Broken bodies are refused with statuses (400, 415, 505, or 500 "parse binary: ..." from the
    // framework for unparsable protobuf); none is an internal fault of the coordinator.
    expect(incidents).toEqual([]);
    expect([...statuses.keys()].every((code) => code >= 200 && code < 600)).toBe(true);
    await stillServing();
  });
});

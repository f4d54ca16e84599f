/**
 * The physical baseline: how many messages one grpc-js bidi stream carries per second on this
 * machine when nothing else happens, for messages the size of a real LeaseOffer envelope: one the
 * factories received in the dispatch run when there is one, else one built here with create().
 *
 * A minimal grpc-js server runs in a child process (as the coordinator does) and the client in this
 * process, over loopback h2c. Messages are raw bytes (identity serializers), so the figure is the
 * transport alone: HTTP/2 framing, grpc-js, the event loop, the kernel; no protobuf, no logic.
 * - ping-pong: send one message, wait for the echo, send the next; messages/s counts both directions.
 * - one-way: the server writes as fast as the stream's flow control allows (server → client, the
 *   direction of a LeaseOffer); messages/s counts the messages the client received.
 *
 * This file is both the server child's entry point (when run as the main module) and the client.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ConnectResponseSchema } from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AttemptOutcome, JobSchema, JobStage, type Job } from '../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { Latency, type LatencySummary } from './stats.js';

const identity = (b: Buffer): Buffer => b;
const method = (name: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path: `/bench.v1.Baseline/${name}`,
  requestStream: true,
  responseStream: true,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});
const SERVICE = { PingPong: method('PingPong'), OneWay: method('OneWay') } satisfies grpc.ServiceDefinition;

/**
 * A LeaseOffer as the coordinator sends it for a bench job: the ConnectResponse envelope around the
 * offer, with the whole Job inside (one attempt, a lease, timestamps), encoded with toBinary.
 */
export function sampleLeaseOffer(): Uint8Array {
  const now = Date.now();
  const job = sampleJob(now);
  return toBinary(
    ConnectResponseSchema,
    create(ConnectResponseSchema, {
      kind: { case: 'leaseOffer', value: { jobId: job.id, epoch: 1n, job, offerExpireTime: timestampFromMs(now + 10_000) } },
    }),
  );
}

/** A bench job as the coordinator holds it once leased: one attempt, a lease, timestamps. */
export function sampleJob(now: number): Job {
  return create(JobSchema, {
    id: 'job_01JD8Z4K0C8W6R5R3Y5E0F8N9T',
    productId: 'bench',
    title: 'bench-12345',
    command: ['/bin/sh', '-c', 'exit 0'],
    env: { BENCH: '1', CI: 'true' },
    priority: 0,
    maxAttempts: 3,
    timeout: durationFromMs(60 * 60_000),
    stage: JobStage.LEASED,
    epoch: 1n,
    attemptCount: 0,
    attempts: [{ epoch: 1n, factoryId: 'bench-factory-007', offerTime: timestampFromMs(now), outcome: AttemptOutcome.UNSPECIFIED }],
    lease: { factoryId: 'bench-factory-007', epoch: 1n, expireTime: timestampFromMs(now + 10_000) },
    createTime: timestampFromMs(now - 3),
    updateTime: timestampFromMs(now),
    notBeforeTime: timestampFromMs(now - 3),
    revision: 2n,
  });
}

export interface BaselineRun {
  /** Messages per second, both directions counted. */
  pingPongMsgsPerSec: number;
  /** Round trips per second (= pingPongMsgsPerSec / 2). */
  roundTripsPerSec: number;
  /** Mean round trip in microseconds. */
  roundTripUs: number;
  /** Messages per second received by the client while the server streamed flat out. */
  oneWayMsgsPerSec: number;
}

export interface BaselineResult {
  messageBytes: number;
  /** Where the message came from: a LeaseOffer received during the dispatch run, or one built here. */
  messageSource: 'received' | 'built';
  runs: BaselineRun[];
  secondsPerMode: number;
}

// ───────────────────────────── client side ─────────────────────────────

function newClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

function pingPong(client: grpc.Client, payload: Buffer, ms: number): Promise<{ roundTrips: number; elapsedMs: number }> {
  return pingPongOn(client.makeBidiStreamRequest<Buffer, Buffer>(SERVICE.PingPong.path, identity, identity), () => payload, ms);
}

function oneWay(client: grpc.Client, payload: Buffer, ms: number): Promise<{ messages: number; elapsedMs: number }> {
  return oneWayOn(client.makeBidiStreamRequest<Buffer, Buffer>(SERVICE.OneWay.path, identity, identity), payload, ms);
}

/**
 * Ping-pong on a freshly opened bidi call: writes `message(0)`, and on each answer the next one,
 * for `ms`; then half-closes and waits for the status. Round trips and the time they took.
 */
export async function pingPongOn<T>(call: grpc.ClientDuplexStream<T, unknown>, message: (roundTrip: number) => T, ms: number): Promise<{ roundTrips: number; elapsedMs: number }> {
  const status = new Promise<void>((resolve) => call.once('status', () => resolve()));
  call.on('error', () => {});
  const start = performance.now();
  const end = start + ms;
  let roundTrips = 0;
  let elapsedMs = 0;
  await new Promise<void>((resolve) => {
    call.on('data', () => {
      roundTrips++;
      const now = performance.now();
      if (now < end) {
        call.write(message(roundTrips));
      } else {
        elapsedMs = now - start;
        call.end();
        resolve();
      }
    });
    call.write(message(0));
  });
  await status;
  return { roundTrips, elapsedMs };
}

/**
 * One-way on a freshly opened bidi call whose server streams flat out once `first` arrives: counts
 * what arrives for `ms` from the first message, then cancels and waits for the status.
 */
export async function oneWayOn<T>(call: grpc.ClientDuplexStream<T, unknown>, first: T, ms: number): Promise<{ messages: number; elapsedMs: number }> {
  const status = new Promise<void>((resolve) => call.once('status', () => resolve()));
  call.on('error', () => {}); // CANCELLED, by us
  let messages = 0;
  let start = 0;
  let elapsedMs = 0;
  await new Promise<void>((resolve) => {
    call.on('data', () => {
      const now = performance.now();
      if (messages++ === 0) start = now; // from the first message: no connection or call set-up in the figure
      else if (now - start >= ms) {
        elapsedMs = now - start;
        call.cancel();
        resolve();
      }
    });
    call.write(first);
  });
  await status;
  return { messages: messages - 1, elapsedMs };
}

/** Runs each mode `runs` times for `seconds` each (after one short unmeasured warm-up of each). */
export async function runBaseline(opts: { runs: number; seconds: number; message?: Uint8Array | null; onProgress?: (line: string) => void }): Promise<BaselineResult> {
  const payload = Buffer.from(opts.message ?? sampleLeaseOffer());
  const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const [ready] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`baseline server exited early (code ${String(code)})`);
      }),
    ])) as [{ address: string }];
    const client = newClient(ready.address);
    try {
      const ms = opts.seconds * 1000;
      await pingPong(client, payload, 300);
      await oneWay(client, payload, 300);
      const runs: BaselineRun[] = [];
      for (let i = 0; i < opts.runs; i++) {
        opts.onProgress?.(`[baseline] run ${i + 1}/${opts.runs}: ping-pong and one-way, ${opts.seconds} s each, ${payload.byteLength}-byte messages`);
        const pp = await pingPong(client, payload, ms);
        const ow = await oneWay(client, payload, ms);
        const rtps = (pp.roundTrips * 1000) / pp.elapsedMs;
        runs.push({
          pingPongMsgsPerSec: 2 * rtps,
          roundTripsPerSec: rtps,
          roundTripUs: (pp.elapsedMs * 1000) / pp.roundTrips,
          oneWayMsgsPerSec: (ow.messages * 1000) / ow.elapsedMs,
        });
      }
      return { messageBytes: payload.byteLength, messageSource: opts.message ? 'received' : 'built', runs, secondsPerMode: opts.seconds };
    } finally {
      client.close();
    }
  } finally {
    child.kill();
  }
}

// ───────────────────────────── the disk ─────────────────────────────

export interface CommitRun {
  commitsPerSec: number;
  latency: LatencySummary;
}

/**
 * The other physical limit: how many SQLite write transactions this disk commits per second, one
 * at a time, with the store's settings (WAL, the given synchronous mode), each inserting one row of
 * about the size of a job document. Runs in this process, in a fresh temp dir, for `seconds`.
 */
export function runCommitBaseline(opts: { seconds: number; synchronous: 'full' | 'normal' | 'off' }): CommitRun {
  const dir = mkdtempSync(join(tmpdir(), 'gigafactory-bench-disk-'));
  const db = new Database(join(dir, 'commits.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous.toUpperCase()}`);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO t (doc) VALUES (?)');
    const commit = db.transaction((doc: string) => insert.run(doc));
    const doc = 'x'.repeat(1_000);
    for (let i = 0; i < 20; i++) commit.immediate(doc); // warm-up
    const latency = new Latency();
    const start = performance.now();
    const end = start + opts.seconds * 1000;
    let commits = 0;
    let now = start;
    while (now < end) {
      commit.immediate(doc);
      const after = performance.now();
      latency.recordMs(after - now);
      now = after;
      commits++;
    }
    return { commitsPerSec: (commits * 1000) / (now - start), latency: latency.summary() };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ───────────────────────────── server side ─────────────────────────────

async function serverMain(): Promise<void> {
  const server = new grpc.Server();
  server.addService(SERVICE, {
    PingPong: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => call.write(m));
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
    OneWay: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('error', () => {});
      let cancelled = false;
      call.once('cancelled', () => (cancelled = true));
      call.once('data', (payload: Buffer) => {
        // Write until the stream's buffer is full, resume on 'drain', stop when the client cancels.
        const pump = (): void => {
          while (!cancelled) {
            if (!call.write(payload)) {
              call.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  process.send!({ address: `127.0.0.1:${port}` });
  process.once('disconnect', () => server.forceShutdown());
  process.once('SIGTERM', () => {
    server.forceShutdown();
    process.exit(0);
  });
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.send) {
  void serverMain();
}

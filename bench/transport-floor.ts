/**
 * The transport floors: what each transport itself costs on this machine, in the same run, with the
 * real JobService and FactoryService descriptors and handlers that do nothing, each served the way
 * the coordinator serves it (src/server/app.ts): `grpc-js` is the native listener (listenGrpc +
 * nativeServer), `connect-node` is connect-node's adapter (the gateway's, here on h2c so the same gRPC
 * clients can call it). Both pass every call through the coordinator's own CallAdmission with an
 * authenticator that admits everyone, so what differs between the two is the transport alone.
 * - SubmitJob answers a canned SubmitJobResponse (one the coordinator answered in the dispatch run
 *   when there is one, else one built here); SubmitJobs answers that once per job asked for;
 * - FactoryService.Connect answers each message with a canned LeaseOffer through an Outbox, as the
 *   coordinator's handler sends what a session produces; a request header picks the other modes:
 *   LeaseOffers flat out (as flow control allows) until the client cancels, or reading what the
 *   client writes flat out, answering nothing (also what an idle stream is).
 *
 * The clients are the real ones: `--submitters` closed-loop JobService clients built and driven by
 * dispatch.ts's own code, and factory streams opened with agent/grpc-client.ts. Protobuf encoding
 * and decoding are in the figures (unlike the raw-bytes grpc-js baseline): a real call pays them too.
 *
 * The server counts calls, jobs and messages, and the parent reads those with process.cpuUsage()
 * over the fork IPC channel before and after each mode, so CPU per call and per message is the
 * server's alone; live heap per idle stream is the server's heap after a full collection with
 * `--idle-streams` streams open, less before. From them, the ceiling: the most jobs/s a coordinator
 * could reach on that transport here if a job cost one SubmitJob (or a hundredth of a SubmitJobs
 * ×100) and 4 stream messages of server CPU and nothing else, on one core, which is all a Node
 * process's thread has.
 *
 * This file is both the server child's entry point (when run as the main module) and the client.
 */
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createFactoryClient, openFactoryStream, type FactoryStream } from '../agent/grpc-client.js';
import { ConnectRequestSchema, ConnectResponseSchema, FactoryService, type ConnectRequest, type ConnectResponse } from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AttemptOutcome, JobStage } from '../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService, SubmitJobResponseSchema, SubmitJobsResponseSchema } from '../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { Outbox } from '../src/api/outbox.js';
import { ServeConfigSchema } from '../src/config.js';
import { CallAdmission } from '../src/server/call-admission.js';
import { nativeServer } from '../src/server/grpc-native.js';
import { listenGrpc } from '../src/server/listeners.js';
import { GatewayAdmission } from '../src/server/gateway-admission.js';
import { connectRoutes, mount, connectProcedures, type MountedService } from '../src/server/services.js';
import { createLogger } from '../src/logging.js';
import { oneWayOn, pingPongOn, sampleJob, sampleLeaseOffer } from './baseline.js';
import type { BullmqComparison } from './bullmq.js';
import { submitClosedLoop, submitterClients, type DispatchResult } from './dispatch.js';
import { cpuSeconds, fmt, Latency, medianOf, type Row } from './stats.js';

/** Stream messages a job costs: LeaseOffer, LeaseAccept, JobResult, ResultAck. */
export const MESSAGES_PER_JOB = 4;

export interface TransportFloorRun {
  /** SubmitJob calls per second from the closed-loop submitters. */
  unaryCallsPerSec: number;
  /** Server CPU per SubmitJob call, ms. */
  unaryCpuMsPerCall: number;
  /** SubmitJob call duration p50, ms. */
  unaryCallP50Ms: number;
  /** Cores the server (child) and the bench process (the submitters) used while SubmitJob ran. */
  unaryServerCores: number;
  unaryClientCores: number;
  /** Jobs per second with SubmitJobs, `batch` jobs per call. */
  batchJobsPerSec: number;
  /** Server CPU per SubmitJobs call and per job in it, ms. */
  batchCpuMsPerCall: number;
  batchCpuMsPerJob: number;
  /** Ping-pong through one FactoryService.Connect stream: messages/s, both directions counted. */
  pingPongMsgsPerSec: number;
  /** Mean round trip, µs. */
  pingPongRoundTripUs: number;
  /** Server CPU per message (one received and one sent per round trip), ms. */
  pingPongCpuMsPerMsg: number;
  /** Server → client flat out: messages/s the client received. */
  oneWayMsgsPerSec: number;
  /** Server CPU per message sent, ms. */
  oneWayCpuMsPerMsg: number;
  /** Client → server flat out: messages/s the server read (until the stream's end reached it). */
  oneWayInMsgsPerSec: number;
  /** Server CPU per message read, ms. */
  oneWayInCpuMsPerMsg: number;
}

/** The most jobs/s a job cost of one call and 4 stream messages of server CPU would allow on one core. */
export interface TransportCeiling {
  /**
   * Server CPU per stream message used: a job's messages are two sent and two read, so the cheaper of
   * ping-pong's (one of each per round trip, one wake-up each) and the mean of the two flat-out
   * directions (many messages per wake-up): the ceiling stays an upper bound.
   */
  messageCpuMs: number;
  messageCpuFrom: 'ping-pong' | 'flat out';
  /** One SubmitJob per job. */
  cpuMsPerJob: number;
  jobsPerSec: number;
  /** SubmitJobs × batch: a share of one call per job. */
  batchCpuMsPerJob: number;
  batchJobsPerSec: number;
}

/** The two transports the coordinator serves with: the native listener and the gateway's adapter. */
export type Transport = 'grpc-js' | 'connect-node';

export interface TransportFloorResult {
  transport: Transport;
  submitters: number;
  batch: number;
  answerBytes: number;
  /** Where the SubmitJob answer came from: received in the dispatch run, or built here. */
  answerSource: 'received' | 'built';
  offerBytes: number;
  offerSource: 'received' | 'built';
  runs: TransportFloorRun[];
  secondsPerMode: number;
  /** Median of each field over the runs. */
  median: TransportFloorRun;
  /** Idle factory streams held open for the heap figure, and the server's live heap per stream, bytes. */
  idleStreams: number;
  idleStreamHeapBytes: number;
  ceiling: TransportCeiling;
}

/** What the server counted; the parent diffs two of these around each mode. */
interface ServerSample {
  cpu: NodeJS.CpuUsage;
  /** Heap in use after a full collection (only when asked: a collection costs CPU). */
  heapUsed: number;
  calls: number;
  jobs: number;
  messagesIn: number;
  messagesOut: number;
}

type ToChild = { t: 'sample'; id: number; gc?: boolean };
type FromChild = { t: 'ready'; address: string } | { t: 'sample'; id: number; sample: ServerSample };

export function transportCeiling(run: TransportFloorRun, batch: number): TransportCeiling {
  const flatOut = (run.oneWayCpuMsPerMsg + run.oneWayInCpuMsPerMsg) / 2;
  const fromFlatOut = flatOut < run.pingPongCpuMsPerMsg;
  const messageCpuMs = fromFlatOut ? flatOut : run.pingPongCpuMsPerMsg;
  const cpuMsPerJob = run.unaryCpuMsPerCall + MESSAGES_PER_JOB * messageCpuMs;
  const batchCpuMsPerJob = run.batchCpuMsPerCall / batch + MESSAGES_PER_JOB * messageCpuMs;
  return { messageCpuMs, messageCpuFrom: fromFlatOut ? 'flat out' : 'ping-pong', cpuMsPerJob, jobsPerSec: 1000 / cpuMsPerJob, batchCpuMsPerJob, batchJobsPerSec: 1000 / batchCpuMsPerJob };
}

/**
 * What a missed jobs/s target's row adds: whether the native transport's own ceiling (for the way of
 * submitting the target was judged on) is below the target, so no coordinator on it can reach it here.
 */
export function ceilingNote(ceilingJobsPerSec: number, target: number, how: string): string {
  const below = ceilingJobsPerSec < target;
  return `transport ceiling ${fmt(ceilingJobsPerSec)} jobs/s ${how} ${below ? '<' : '≥'} ${fmt(target)}: ${below ? 'not reachable on grpc-js on this machine' : 'the transport alone allows it'}`;
}

/** A floor's figures, the ceiling derived from them, and where Gigafactory and BullMQ stand against it. */
export function transportFloorRows(floor: TransportFloorResult | null, peak: DispatchResult | null, batched: DispatchResult | null, bullmq: BullmqComparison | null): Row[] {
  if (!floor) return [];
  const m = floor.median;
  const c = floor.ceiling;
  const spread = (f: (run: TransportFloorRun) => number): string => `runs: ${floor.runs.map((x) => fmt(f(x))).join(', ')}`;
  const source = (s: 'received' | 'built'): string => (s === 'received' ? 'as received in the dispatch run' : 'built with create()');
  const bullmqRuns = bullmq && 'runs' in bullmq ? bullmq.runs : [];
  const bullmqNote = (mode: 'add' | 'addBulk'): string =>
    bullmqRuns.filter((run) => run.mode === mode).map((run) => `${run.label} ${fmt(run.jobsPerSec)} (${fmt((100 * run.jobsPerSec) / (mode === 'add' ? c.jobsPerSec : c.batchJobsPerSec))}% of it)`).join(', ');
  const ours = (run: DispatchResult | null, ceiling: number): string => (run ? `Gigafactory ${fmt(run.jobsPerSec)} jobs/s = ${fmt((100 * run.jobsPerSec) / ceiling)}% of it (${fmt(run.coordinator.cpuMsPerJob)} ms CPU per job)` : 'Gigafactory not run');
  const join = (...parts: string[]): string => parts.filter(Boolean).join('; ');
  return [
    { section: `${floor.transport} floor — served as the coordinator serves it (${floor.transport === 'grpc-js' ? 'the native listener' : "the gateway's adapter, here on h2c"}; call admission with an authenticator that admits everyone), real descriptors, handlers that do nothing; ${floor.answerBytes}-byte SubmitJob answer and ${floor.offerBytes}-byte LeaseOffer (${source(floor.offerSource)}); server CPU from its process; median of ${floor.runs.length} × ${floor.secondsPerMode} s per mode` },
    ['SubmitJob (unary floor)', fmt(m.unaryCallsPerSec), 'calls/s', `${floor.submitters} closed-loop submitters as in dispatch; server ${fmt(m.unaryCpuMsPerCall)} ms CPU per call (${fmt(m.unaryServerCores)} cores, bench process ${fmt(m.unaryClientCores)}); call p50 ${fmt(m.unaryCallP50Ms)} ms; ${spread((x) => x.unaryCallsPerSec)}`],
    [`SubmitJobs ×${floor.batch}`, fmt(m.batchJobsPerSec), 'jobs/s', `server ${fmt(m.batchCpuMsPerCall)} ms CPU per call, ${fmt(m.batchCpuMsPerJob)} per job; ${spread((x) => x.batchJobsPerSec)}`],
    ['stream ping-pong', fmt(m.pingPongMsgsPerSec), 'msgs/s', `one FactoryService.Connect stream, accept/result in, LeaseOffer out; round trip ${fmt(m.pingPongRoundTripUs)} µs; server ${fmt(m.pingPongCpuMsPerMsg * 1000)} µs CPU per message; ${spread((x) => x.pingPongMsgsPerSec)}`],
    ['stream one-way (server → client)', fmt(m.oneWayMsgsPerSec), 'msgs/s', `LeaseOffers flat out; server ${fmt(m.oneWayCpuMsPerMsg * 1000)} µs CPU per message; ${spread((x) => x.oneWayMsgsPerSec)}`],
    ['stream one-way (client → server)', fmt(m.oneWayInMsgsPerSec), 'msgs/s', `accept/result flat out, read by the server; server ${fmt(m.oneWayInCpuMsPerMsg * 1000)} µs CPU per message; ${spread((x) => x.oneWayInMsgsPerSec)}`],
    ['live heap per idle stream', fmt(floor.idleStreamHeapBytes / 1024), 'KiB', `${fmt(floor.idleStreams)} FactoryService.Connect streams open, one message read on each; server heap after a full collection, less before`],
    ['transport ceiling, one SubmitJob per job', fmt(c.jobsPerSec), 'jobs/s', join(`1 / (${fmt(m.unaryCpuMsPerCall)} ms per call + ${MESSAGES_PER_JOB} × ${fmt(c.messageCpuMs * 1000)} µs per message, ${c.messageCpuFrom}) of one core`, ours(peak, c.jobsPerSec), bullmqNote('add'))],
    [`transport ceiling, SubmitJobs ×${floor.batch}`, fmt(c.batchJobsPerSec), 'jobs/s', join(`1 / (${fmt(m.batchCpuMsPerCall)} ms per call ÷ ${floor.batch} + ${MESSAGES_PER_JOB} × ${fmt(c.messageCpuMs * 1000)} µs per message)`, ours(batched, c.batchJobsPerSec), bullmqNote('addBulk'))],
  ];
}

// ───────────────────────────── client side ─────────────────────────────

interface ServerHandle {
  address: string;
  /** With `gc`, after a full collection, so heapUsed is what is live. */
  sample(gc?: boolean): Promise<ServerSample>;
  kill(): void;
}

async function startServerChild(transport: Transport, answer: Uint8Array, offer: Uint8Array): Promise<ServerHandle> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [transport, Buffer.from(answer).toString('base64'), Buffer.from(offer).toString('base64')], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (s: ServerSample) => void; reject: (err: Error) => void }>();
  let nextId = 1;
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`transport floor server exited (code ${String(code)})`));
    pending.clear();
  });
  try {
    const [ready] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`transport floor server exited early (code ${String(code)})`);
      }),
    ])) as [FromChild];
    if (ready.t !== 'ready') throw new Error(`transport floor server said ${ready.t} before ready`);
    child.on('message', (m: FromChild) => {
      if (m.t === 'sample') {
        pending.get(m.id)?.resolve(m.sample);
        pending.delete(m.id);
      }
    });
    return {
      address: ready.address,
      sample: (gc = false) =>
        new Promise((resolve, reject) => {
          if (child.exitCode !== null) return reject(new Error('transport floor server exited'));
          const id = nextId++;
          pending.set(id, { resolve, reject });
          child.send({ t: 'sample', id, gc } satisfies ToChild);
        }),
      kill: () => void child.kill(),
    };
  } catch (err) {
    child.kill();
    throw err;
  }
}

/** Closed-loop submitting for `ms`, as the dispatch part submits (SubmitJobs when `batch` is set): jobs sent, call p50. */
async function submitFor(clients: ReturnType<typeof submitterClients>, ms: number, batch?: number): Promise<{ jobs: number; elapsedMs: number; callP50Ms: number }> {
  const calls = new Latency();
  const start = performance.now();
  const jobs = await submitClosedLoop(clients, Infinity, (i) => `bench-${i}`, () => {}, calls, start + ms, batch);
  return { jobs, elapsedMs: performance.now() - start, callP50Ms: calls.summary().p50 };
}

/** The messages a factory sends about a job, in turn: LeaseAccept, then JobResult. */
function factoryMessages(): ConnectRequest[] {
  const kinds: NonNullable<MessageInitShape<typeof ConnectRequestSchema>['kind']>[] = [
    { case: 'leaseAccept', value: { jobId: 'job_01JD8Z4K0C8W6R5R3Y5E0F8N9T', epoch: 1n } },
    { case: 'jobResult', value: { jobId: 'job_01JD8Z4K0C8W6R5R3Y5E0F8N9T', epoch: 1n, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0, message: 'ok' } },
  ];
  return kinds.map((kind) => create(ConnectRequestSchema, { kind }));
}

/** Request header that picks the stream mode: `out` (server → client flat out), `in` (client → server flat out), else ping-pong. */
const MODE_HEADER = 'bench-stream-mode';

/** A factory stream as the agent opens it (its channel options, its own connection), in `mode`. */
function openStream(address: string, mode: 'ping-pong' | 'out' | 'in'): { client: grpc.Client; stream: FactoryStream } {
  const client = createFactoryClient(address, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set(MODE_HEADER, mode);
  return { client, stream: openFactoryStream(client, { metadata }) };
}

async function pingPong(address: string, ms: number): Promise<{ roundTrips: number; elapsedMs: number }> {
  const { client, stream } = openStream(address, 'ping-pong');
  const messages = factoryMessages();
  const result = await pingPongOn(stream, (i) => messages[i % 2]!, ms);
  client.close();
  return result;
}

async function oneWay(address: string, ms: number): Promise<{ messages: number; elapsedMs: number }> {
  const { client, stream } = openStream(address, 'out');
  const result = await oneWayOn(stream, factoryMessages()[0]!, ms); // the first message opens the call; offers follow until cancelled
  client.close();
  return result;
}

/** The client writes flat out (as grpc-js's buffer allows) for `ms`, then ends; done when the server's status arrives, so every message was read. */
async function oneWayIn(address: string, ms: number): Promise<{ elapsedMs: number }> {
  const { client, stream } = openStream(address, 'in');
  const status = new Promise<void>((resolve) => stream.once('status', () => resolve()));
  stream.on('error', () => {}); // the status carries it
  const messages = factoryMessages();
  const start = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (performance.now() - start < ms) {
        if (!stream.write(messages[i++ % 2]!)) return void stream.once('drain', pump);
      }
      stream.end();
      resolve();
    };
    pump();
  });
  await status;
  client.close();
  return { elapsedMs: performance.now() - start };
}

/**
 * `count` idle factory streams, each having sent one message the server read: the server's live heap
 * per stream. Over a few connections, as a fleet's agents would not share one but the figure is per stream.
 */
async function idleStreamHeap(server: ServerHandle, count: number): Promise<number> {
  const before = await server.sample(true);
  const perConnection = 500;
  const clients: grpc.Client[] = [];
  const streams: FactoryStream[] = [];
  const message = factoryMessages()[0]!;
  for (let i = 0; i < count; i++) {
    // A channel of its own (not grpc-js's shared subchannel), so each holds one connection.
    if (i % perConnection === 0) clients.push(new grpc.Client(server.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    const metadata = new grpc.Metadata();
    metadata.set(MODE_HEADER, 'in');
    const stream = openFactoryStream(clients.at(-1)!, { metadata });
    stream.on('error', () => {}); // cancelled at the end
    stream.write(message);
    streams.push(stream);
  }
  let read = before.messagesIn;
  for (let waited = 0; read - before.messagesIn < count && waited < 30_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    read = (await server.sample()).messagesIn;
  }
  const after = await server.sample(true);
  for (const stream of streams) stream.cancel();
  for (const client of clients) client.close();
  return (after.heapUsed - before.heapUsed) / count;
}

/** A SubmitJobResponse as the coordinator answers a bench job: the job as inserted, queued (a claim at submit is a later write). */
export function sampleSubmitAnswer(): Uint8Array {
  const job = sampleJob(Date.now());
  Object.assign(job, { stage: JobStage.QUEUED, epoch: 0n, attempts: [], lease: undefined, updateTime: job.createTime, revision: 1n });
  return toBinary(SubmitJobResponseSchema, create(SubmitJobResponseSchema, { job, created: true }));
}

/**
 * Runs each mode `runs` times for `seconds` each (after one short unmeasured warm-up of each):
 * SubmitJob, SubmitJobs × `batch`, ping-pong, one-way out and in. `answer` and `offer` are the
 * messages the dispatch run received, when it ran.
 */
export async function runTransportFloor(opts: {
  transport: Transport;
  runs: number;
  idleStreams: number;
  seconds: number;
  submitters: number;
  batch: number;
  answer?: Uint8Array | null;
  offer?: Uint8Array | null;
  onProgress?: (line: string) => void;
}): Promise<TransportFloorResult> {
  const answer = opts.answer ?? sampleSubmitAnswer();
  const offer = opts.offer ?? sampleLeaseOffer();
  const server = await startServerChild(opts.transport, answer, offer);
  try {
    const { address } = server;
    /** Runs `mode` and diffs the server's counters and CPU around it. */
    const measured = async <T>(mode: () => Promise<T>): Promise<{ result: T; cpuMs: number; d: Omit<ServerSample, 'cpu' | 'heapUsed'>; benchCpuS: number }> => {
      const before = await server.sample();
      const benchBefore = process.cpuUsage();
      const result = await mode();
      const benchCpuS = cpuSeconds(benchBefore, process.cpuUsage());
      const after = await server.sample();
      return {
        result,
        cpuMs: cpuSeconds(before.cpu, after.cpu) * 1000,
        d: { calls: after.calls - before.calls, jobs: after.jobs - before.jobs, messagesIn: after.messagesIn - before.messagesIn, messagesOut: after.messagesOut - before.messagesOut },
        benchCpuS,
      };
    };
    // Connected once, as the dispatch part's submitters are.
    const clients = submitterClients(address, opts.submitters);
    await submitFor(clients, 300);
    await submitFor(clients, 300, opts.batch);
    await pingPong(address, 300);
    await oneWay(address, 300);
    await oneWayIn(address, 300);
    const ms = opts.seconds * 1000;
    const runs: TransportFloorRun[] = [];
    for (let i = 0; i < opts.runs; i++) {
      opts.onProgress?.(`[baseline] ${opts.transport} floor run ${i + 1}/${opts.runs}: SubmitJob, SubmitJobs ×${opts.batch}, ping-pong and one-way each way, ${opts.seconds} s each`);
      const unary = await measured(() => submitFor(clients, ms));
      const batched = await measured(() => submitFor(clients, ms, opts.batch));
      const pp = await measured(() => pingPong(address, ms));
      const ow = await measured(() => oneWay(address, ms));
      const owIn = await measured(() => oneWayIn(address, ms));
      const unaryS = unary.result.elapsedMs / 1000;
      runs.push({
        unaryCallsPerSec: unary.result.jobs / unaryS,
        unaryCpuMsPerCall: unary.cpuMs / unary.d.calls,
        unaryCallP50Ms: unary.result.callP50Ms,
        unaryServerCores: unary.cpuMs / unary.result.elapsedMs,
        unaryClientCores: unary.benchCpuS / unaryS,
        batchJobsPerSec: (batched.result.jobs * 1000) / batched.result.elapsedMs,
        batchCpuMsPerCall: batched.cpuMs / batched.d.calls,
        batchCpuMsPerJob: batched.cpuMs / batched.d.jobs,
        pingPongMsgsPerSec: (2 * pp.result.roundTrips * 1000) / pp.result.elapsedMs,
        pingPongRoundTripUs: (pp.result.elapsedMs * 1000) / pp.result.roundTrips,
        pingPongCpuMsPerMsg: pp.cpuMs / (pp.d.messagesIn + pp.d.messagesOut),
        oneWayMsgsPerSec: (ow.result.messages * 1000) / ow.result.elapsedMs,
        oneWayCpuMsPerMsg: ow.cpuMs / (ow.d.messagesIn + ow.d.messagesOut),
        oneWayInMsgsPerSec: (owIn.d.messagesIn * 1000) / owIn.result.elapsedMs,
        oneWayInCpuMsPerMsg: owIn.cpuMs / (owIn.d.messagesIn + owIn.d.messagesOut),
      });
    }
    const median = medianRun(runs);
    opts.onProgress?.(`[baseline] ${opts.transport} floor: ${opts.idleStreams} idle streams`);
    const idleStreamHeapBytes = await idleStreamHeap(server, opts.idleStreams);
    return {
      transport: opts.transport,
      idleStreams: opts.idleStreams,
      idleStreamHeapBytes,
      submitters: opts.submitters,
      batch: opts.batch,
      answerBytes: answer.byteLength,
      answerSource: opts.answer ? 'received' : 'built',
      offerBytes: offer.byteLength,
      offerSource: opts.offer ? 'received' : 'built',
      runs,
      secondsPerMode: opts.seconds,
      median,
      ceiling: transportCeiling(median, opts.batch),
    };
  } finally {
    server.kill();
  }
}

// ───────────────────────────── server side ─────────────────────────────

async function serverMain(transport: Transport, answerBase64: string, offerBase64: string): Promise<void> {
  const answer = fromBinary(SubmitJobResponseSchema, Buffer.from(answerBase64, 'base64'));
  const offer: ConnectResponse = fromBinary(ConnectResponseSchema, Buffer.from(offerBase64, 'base64'));
  const counted: Omit<ServerSample, 'cpu' | 'heapUsed'> = { calls: 0, jobs: 0, messagesIn: 0, messagesOut: 0 };
  /** Server → client: LeaseOffers as fast as the transport takes them, until the client cancels. */
  async function* offersUntilCancelled(signal: AbortSignal): AsyncIterable<ConnectResponse> {
    while (!signal.aborted) {
      counted.messagesOut++;
      yield offer;
    }
  }
  const mounted = [
    mount(JobService, {
      submitJob() {
        counted.calls++;
        counted.jobs++;
        return answer;
      },
      submitJobs(req) {
        counted.calls++;
        counted.jobs += req.jobs.length;
        return create(SubmitJobsResponseSchema, { results: req.jobs.map(() => answer) });
      },
    }),
    mount(FactoryService, {
      connect(requests, ctx) {
        if (ctx.requestHeader.get(MODE_HEADER) === 'out') return offersUntilCancelled(ctx.signal);
        // Shaped as the coordinator's handler: a reader loop hands each message to whatever
        // answers it (here: one LeaseOffer each, or nothing in the client → server mode), and the
        // stream sends what is pushed to an Outbox.
        const replies = ctx.requestHeader.get(MODE_HEADER) !== 'in';
        const outbox = new Outbox<ConnectResponse>();
        void (async () => {
          try {
            for await (const _ of requests) {
              counted.messagesIn++;
              if (replies) {
                counted.messagesOut++;
                outbox.push(offer);
              }
            }
            outbox.end();
          } catch (err) {
            outbox.end(err);
          }
        })();
        return outbox;
      },
    }),
  ];
  const maxMessageBytes = ServeConfigSchema.shape.maxMessageBytes.parse(undefined);
  // Every call is admitted as the coordinator admits it (request id, logger, principal), by an authenticator that admits everyone.
  const calls = new CallAdmission(async () => ({ kind: 'dev' }), createLogger({ level: 'silent', pretty: false }));
  const listener =
    transport === 'grpc-js'
      ? await listenGrpc((admitted) => nativeServer(mounted, calls, { maxMessageBytes, admitted }), '127.0.0.1', 0)
      : await listenH2c(connectGateway(mounted, calls, maxMessageBytes));
  process.on('message', (m: ToChild) => {
    if (m.t !== 'sample') return;
    if (m.gc) {
      // Twice: the first collection's finalizers can free more.
      global.gc!();
      global.gc!();
    }
    process.send!({ t: 'sample', id: m.id, sample: { cpu: process.cpuUsage(), heapUsed: process.memoryUsage().heapUsed, ...counted } } satisfies FromChild);
  });
  process.send!({ t: 'ready', address: listener.address } satisfies FromChild);
  const stop = (): void => void listener.close(0).finally(() => process.exit(0));
  process.once('disconnect', stop);
  process.once('SIGTERM', stop);
}

/** src/server/app.ts's gateway: admission in front of connect-node, with the same adapter options. */
function connectGateway(mounted: MountedService[], calls: CallAdmission, maxMessageBytes: number): ReturnType<typeof connectNodeAdapter> {
  const gateway = new GatewayAdmission(calls, connectProcedures(mounted, { http2: true }));
  return gateway.wrap(
    connectNodeAdapter({
      routes: connectRoutes(mounted),
      interceptors: [gateway.interceptor()],
      contextValues: gateway.contextValues,
      readMaxBytes: maxMessageBytes,
      writeMaxBytes: maxMessageBytes,
      jsonOptions: { alwaysEmitImplicit: true },
    }),
  );
}

/** connect-node on an h2c server, so the same gRPC clients call both floors. */
async function listenH2c(handler: ReturnType<typeof connectNodeAdapter>): Promise<{ address: string; close(graceMs: number): Promise<void> }> {
  const server = http2.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { address: `127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function medianRun(runs: readonly TransportFloorRun[]): TransportFloorRun {
  return medianOf(runs as unknown as Record<string, number>[]) as unknown as TransportFloorRun;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.send) {
  void serverMain(process.argv[2] as Transport, process.argv[3]!, process.argv[4]!);
}

/**
 * The Connect floor: what connect-node itself costs on this machine, served the way the coordinator
 * serves (src/server/app.ts: connectNodeAdapter with the same router options minus our interceptors,
 * on listenGrpc's h2c listener), with the real JobService and FactoryService descriptors and handlers
 * that do nothing:
 * - SubmitJob answers a canned SubmitJobResponse (one the coordinator answered in the dispatch run
 *   when there is one, else one built here); SubmitJobs answers that once per job asked for;
 * - FactoryService.Connect answers each message with a canned LeaseOffer through an Outbox, as the
 *   coordinator's handler sends what a session produces; a request header picks the other two
 *   modes: LeaseOffers flat out (as flow control allows) until the client cancels, or reading what
 *   the client writes flat out, answering nothing.
 *
 * The clients are the real ones: `--submitters` closed-loop JobService clients built and driven by
 * dispatch.ts's own code, and one factory stream opened with agent/grpc-client.ts. Protobuf encoding
 * and decoding are in the figures (unlike the raw-bytes grpc-js baseline): a real call pays them too.
 *
 * The server counts calls, jobs and messages, and the parent reads those with process.cpuUsage()
 * over the fork IPC channel before and after each mode, so CPU per call and per message is the
 * server's alone. From them, the ceiling: the most jobs/s a coordinator could reach on connect-node
 * here if a job cost one SubmitJob (or a hundredth of a SubmitJobs ×100) and 4 stream messages of
 * server CPU and nothing else, on one core, which is all a Node process's thread has.
 *
 * This file is both the server child's entry point (when run as the main module) and the client.
 */
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createFactoryClient, openFactoryStream, type FactoryStream } from '../agent/grpc-client.js';
import { ConnectRequestSchema, ConnectResponseSchema, FactoryService, type ConnectRequest, type ConnectResponse } from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AttemptOutcome, JobStage } from '../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService, SubmitJobResponseSchema, SubmitJobsResponseSchema } from '../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { Outbox } from '../src/api/outbox.js';
import { ServeConfigSchema } from '../src/config.js';
import { peerContextValues } from '../src/server/auth.js';
import { listenGrpc } from '../src/server/listeners.js';
import { oneWayOn, pingPongOn, sampleJob, sampleLeaseOffer } from './baseline.js';
import type { BullmqComparison } from './bullmq.js';
import { submitClosedLoop, submitterClients, type DispatchResult } from './dispatch.js';
import { cpuSeconds, fmt, Latency, medianOf, type Row } from './stats.js';

/** Stream messages a job costs: LeaseOffer, LeaseAccept, JobResult, ResultAck. */
export const MESSAGES_PER_JOB = 4;

export interface ConnectFloorRun {
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

export interface ConnectFloorResult {
  submitters: number;
  batch: number;
  answerBytes: number;
  /** Where the SubmitJob answer came from: received in the dispatch run, or built here. */
  answerSource: 'received' | 'built';
  offerBytes: number;
  offerSource: 'received' | 'built';
  runs: ConnectFloorRun[];
  secondsPerMode: number;
  /** Median of each field over the runs. */
  median: ConnectFloorRun;
  ceiling: TransportCeiling;
}

/** What the server counted; the parent diffs two of these around each mode. */
interface ServerSample {
  cpu: NodeJS.CpuUsage;
  calls: number;
  jobs: number;
  messagesIn: number;
  messagesOut: number;
}

type ToChild = { t: 'sample'; id: number };
type FromChild = { t: 'ready'; address: string } | { t: 'sample'; id: number; sample: ServerSample };

export function transportCeiling(run: ConnectFloorRun, batch: number): TransportCeiling {
  const flatOut = (run.oneWayCpuMsPerMsg + run.oneWayInCpuMsPerMsg) / 2;
  const fromFlatOut = flatOut < run.pingPongCpuMsPerMsg;
  const messageCpuMs = fromFlatOut ? flatOut : run.pingPongCpuMsPerMsg;
  const cpuMsPerJob = run.unaryCpuMsPerCall + MESSAGES_PER_JOB * messageCpuMs;
  const batchCpuMsPerJob = run.batchCpuMsPerCall / batch + MESSAGES_PER_JOB * messageCpuMs;
  return { messageCpuMs, messageCpuFrom: fromFlatOut ? 'flat out' : 'ping-pong', cpuMsPerJob, jobsPerSec: 1000 / cpuMsPerJob, batchCpuMsPerJob, batchJobsPerSec: 1000 / batchCpuMsPerJob };
}

/**
 * What a missed jobs/s target's row adds: whether the transport's own ceiling (for the way of
 * submitting the target was judged on) is below the target, so no coordinator on connect-node can
 * reach it here.
 */
export function ceilingNote(ceilingJobsPerSec: number, target: number, how: string): string {
  const below = ceilingJobsPerSec < target;
  return `transport ceiling ${fmt(ceilingJobsPerSec)} jobs/s ${how} ${below ? '<' : '≥'} ${fmt(target)}: ${below ? 'not reachable on connect-node on this machine' : 'the transport alone allows it'}`;
}

/** The floor's figures, the ceiling derived from them, and where Gigafactory and BullMQ stand against it. */
export function connectFloorRows(floor: ConnectFloorResult | null, peak: DispatchResult | null, batched: DispatchResult | null, bullmq: BullmqComparison | null): Row[] {
  if (!floor) return [];
  const m = floor.median;
  const c = floor.ceiling;
  const spread = (f: (run: ConnectFloorRun) => number): string => `runs: ${floor.runs.map((x) => fmt(f(x))).join(', ')}`;
  const source = (s: 'received' | 'built'): string => (s === 'received' ? 'as received in the dispatch run' : 'built with create()');
  const bullmqRuns = bullmq && 'runs' in bullmq ? bullmq.runs : [];
  const bullmqNote = (mode: 'add' | 'addBulk'): string =>
    bullmqRuns.filter((run) => run.mode === mode).map((run) => `${run.label} ${fmt(run.jobsPerSec)} (${fmt((100 * run.jobsPerSec) / (mode === 'add' ? c.jobsPerSec : c.batchJobsPerSec))}% of it)`).join(', ');
  const ours = (run: DispatchResult | null, ceiling: number): string => (run ? `Gigafactory ${fmt(run.jobsPerSec)} jobs/s = ${fmt((100 * run.jobsPerSec) / ceiling)}% of it (${fmt(run.coordinator.cpuMsPerJob)} ms CPU per job)` : 'Gigafactory not run');
  const join = (...parts: string[]): string => parts.filter(Boolean).join('; ');
  return [
    { section: `Connect floor — connect-node served as the coordinator serves it (h2c, same router options, no interceptors), real descriptors, handlers that do nothing; ${floor.answerBytes}-byte SubmitJob answer and ${floor.offerBytes}-byte LeaseOffer (${source(floor.offerSource)}); server CPU from its process; median of ${floor.runs.length} × ${floor.secondsPerMode} s per mode` },
    ['SubmitJob (unary floor)', fmt(m.unaryCallsPerSec), 'calls/s', `${floor.submitters} closed-loop submitters as in dispatch; server ${fmt(m.unaryCpuMsPerCall)} ms CPU per call (${fmt(m.unaryServerCores)} cores, bench process ${fmt(m.unaryClientCores)}); call p50 ${fmt(m.unaryCallP50Ms)} ms; ${spread((x) => x.unaryCallsPerSec)}`],
    [`SubmitJobs ×${floor.batch}`, fmt(m.batchJobsPerSec), 'jobs/s', `server ${fmt(m.batchCpuMsPerCall)} ms CPU per call, ${fmt(m.batchCpuMsPerJob)} per job; ${spread((x) => x.batchJobsPerSec)}`],
    ['stream ping-pong', fmt(m.pingPongMsgsPerSec), 'msgs/s', `one FactoryService.Connect stream, accept/result in, LeaseOffer out; round trip ${fmt(m.pingPongRoundTripUs)} µs; server ${fmt(m.pingPongCpuMsPerMsg * 1000)} µs CPU per message; ${spread((x) => x.pingPongMsgsPerSec)}`],
    ['stream one-way (server → client)', fmt(m.oneWayMsgsPerSec), 'msgs/s', `LeaseOffers flat out; server ${fmt(m.oneWayCpuMsPerMsg * 1000)} µs CPU per message; ${spread((x) => x.oneWayMsgsPerSec)}`],
    ['stream one-way (client → server)', fmt(m.oneWayInMsgsPerSec), 'msgs/s', `accept/result flat out, read by the server; server ${fmt(m.oneWayInCpuMsPerMsg * 1000)} µs CPU per message; ${spread((x) => x.oneWayInMsgsPerSec)}`],
    ['transport ceiling, one SubmitJob per job', fmt(c.jobsPerSec), 'jobs/s', join(`1 / (${fmt(m.unaryCpuMsPerCall)} ms per call + ${MESSAGES_PER_JOB} × ${fmt(c.messageCpuMs * 1000)} µs per message, ${c.messageCpuFrom}) of one core`, ours(peak, c.jobsPerSec), bullmqNote('add'))],
    [`transport ceiling, SubmitJobs ×${floor.batch}`, fmt(c.batchJobsPerSec), 'jobs/s', join(`1 / (${fmt(m.batchCpuMsPerCall)} ms per call ÷ ${floor.batch} + ${MESSAGES_PER_JOB} × ${fmt(c.messageCpuMs * 1000)} µs per message)`, ours(batched, c.batchJobsPerSec), bullmqNote('addBulk'))],
  ];
}

// ───────────────────────────── client side ─────────────────────────────

interface ServerHandle {
  address: string;
  sample(): Promise<ServerSample>;
  kill(): void;
}

async function startServerChild(answer: Uint8Array, offer: Uint8Array): Promise<ServerHandle> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [Buffer.from(answer).toString('base64'), Buffer.from(offer).toString('base64')], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (s: ServerSample) => void; reject: (err: Error) => void }>();
  let nextId = 1;
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`Connect floor server exited (code ${String(code)})`));
    pending.clear();
  });
  try {
    const [ready] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`Connect floor server exited early (code ${String(code)})`);
      }),
    ])) as [FromChild];
    if (ready.t !== 'ready') throw new Error(`Connect floor server said ${ready.t} before ready`);
    child.on('message', (m: FromChild) => {
      if (m.t === 'sample') {
        pending.get(m.id)?.resolve(m.sample);
        pending.delete(m.id);
      }
    });
    return {
      address: ready.address,
      sample: () =>
        new Promise((resolve, reject) => {
          if (child.exitCode !== null) return reject(new Error('Connect floor server exited'));
          const id = nextId++;
          pending.set(id, { resolve, reject });
          child.send({ t: 'sample', id } satisfies ToChild);
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
export async function runConnectFloor(opts: {
  runs: number;
  seconds: number;
  submitters: number;
  batch: number;
  answer?: Uint8Array | null;
  offer?: Uint8Array | null;
  onProgress?: (line: string) => void;
}): Promise<ConnectFloorResult> {
  const answer = opts.answer ?? sampleSubmitAnswer();
  const offer = opts.offer ?? sampleLeaseOffer();
  const server = await startServerChild(answer, offer);
  try {
    const { address } = server;
    /** Runs `mode` and diffs the server's counters and CPU around it. */
    const measured = async <T>(mode: () => Promise<T>): Promise<{ result: T; cpuMs: number; d: Omit<ServerSample, 'cpu'>; benchCpuS: number }> => {
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
    const runs: ConnectFloorRun[] = [];
    for (let i = 0; i < opts.runs; i++) {
      opts.onProgress?.(`[baseline] Connect floor run ${i + 1}/${opts.runs}: SubmitJob, SubmitJobs ×${opts.batch}, ping-pong and one-way each way, ${opts.seconds} s each`);
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
    return {
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

async function serverMain(answerBase64: string, offerBase64: string): Promise<void> {
  const answer = fromBinary(SubmitJobResponseSchema, Buffer.from(answerBase64, 'base64'));
  const offer: ConnectResponse = fromBinary(ConnectResponseSchema, Buffer.from(offerBase64, 'base64'));
  const counted: Omit<ServerSample, 'cpu'> = { calls: 0, jobs: 0, messagesIn: 0, messagesOut: 0 };
  /** Server → client: LeaseOffers as fast as connect-node takes them, until the client cancels. */
  async function* offersUntilCancelled(signal: AbortSignal): AsyncIterable<ConnectResponse> {
    while (!signal.aborted) {
      counted.messagesOut++;
      yield offer;
    }
  }
  const routes = (router: ConnectRouter): void => {
    router.service(JobService, {
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
    });
    router.service(FactoryService, {
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
    });
  };
  const maxMessageBytes = ServeConfigSchema.shape.maxMessageBytes.parse(undefined);
  // src/server/app.ts's router options, without its interceptors (request log, error mapping, auth).
  const handler = connectNodeAdapter({
    routes,
    contextValues: peerContextValues,
    readMaxBytes: maxMessageBytes,
    writeMaxBytes: maxMessageBytes,
    jsonOptions: { alwaysEmitImplicit: true },
  });
  const listener = await listenGrpc(handler, '127.0.0.1', 0);
  process.on('message', (m: ToChild) => {
    if (m.t === 'sample') process.send!({ t: 'sample', id: m.id, sample: { cpu: process.cpuUsage(), ...counted } } satisfies FromChild);
  });
  process.send!({ t: 'ready', address: listener.address } satisfies FromChild);
  const stop = (): void => void listener.close(0).finally(() => process.exit(0));
  process.once('disconnect', stop);
  process.once('SIGTERM', stop);
}

function medianRun(runs: readonly ConnectFloorRun[]): ConnectFloorRun {
  return medianOf(runs as unknown as Record<string, number>[]) as unknown as ConnectFloorRun;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.send) {
  void serverMain(process.argv[2]!, process.argv[3]!);
}

/**
 * Dispatch end to end: the real coordinator in a child process, M factory streams in this process
 * (grpc-js bidi streams opened with agent/grpc-client.ts, one HTTP/2 connection each) that accept
 * every offer at once and report SUCCEEDED at once, and a few JobService submitters over connect-node.
 *
 * Two ways to submit:
 * - closed loop: each submitter sends its next job as soon as the previous submit returned (peak);
 * - open loop: jobs are due at a fixed rate whatever happens to earlier ones, and latency is
 *   counted from the moment a job was due, so a stalled coordinator cannot hide its stall
 *   (no coordinated omission).
 *
 * The closed loop can also submit `batch` jobs per JobService.SubmitJobs call (beside BullMQ's addBulk).
 *
 * Submit→offer and submit→result-ack latencies are keyed by the job's title ("bench-<n>"), which the
 * LeaseOffer carries inside its Job, because an offer can arrive before the submit call returns.
 */
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { DEFAULT_FACTORY_CLIENT_OPTIONS, openFactoryStream, type FactoryStream } from '../agent/grpc-client.js';
import { AttemptOutcome } from '../gen/ts/gigafactory/fleet/v1/job_pb.js';
import {
  ConnectRequestSchema,
  ConnectResponseSchema,
  type ConnectResponse,
} from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { JobService, SubmitJobRequestSchema, SubmitJobResponseSchema, type SubmitJobRequest, type SubmitJobResponse } from '../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { spawnCoordinator, type ChildSample, type CoordinatorHandle, type FileStats, type Synchronous } from './coordinator-child.js';
import { cpuSeconds, fmt, Latency, progress, progressDone, type LatencySummary } from './stats.js';

export interface DispatchOptions {
  label: string;
  jobs: number;
  /** Jobs run (closed loop) before measuring, to warm the JIT and the SQLite page cache. */
  warmupJobs: number;
  factories: number;
  slots: number;
  submitters: number;
  /** Omitted: closed loop (peak). Set: open loop at this many submissions per second. */
  rate?: number;
  /** Closed loop only: jobs per SubmitJobs call; omitted, one SubmitJob per job. */
  batch?: number;
  /** Closed loop only: stop submitting after this many seconds and measure the jobs sent so far. */
  maxSubmitSeconds?: number;
  /** SQLite commit durability in the coordinator; 'full' is the product's setting. */
  synchronous: Synchronous;
  /** Abort when no job finished for this long. */
  stallTimeoutMs?: number;
}

export interface DispatchResult {
  label: string;
  /** Jobs asked for; `jobs` is fewer when the submit phase hit maxSubmitSeconds. */
  jobsRequested: number;
  capped: boolean;
  synchronous: Synchronous;
  mode: 'closed-loop' | 'open-loop';
  /** Jobs per SubmitJobs call, or null for one SubmitJob per job. */
  batch: number | null;
  jobs: number;
  factories: number;
  slots: number;
  submitters: number;
  targetRate: number | null;
  /** Submissions per second actually achieved over the submit phase. */
  submitRate: number;
  elapsedS: number;
  jobsPerSec: number;
  submitRpc: LatencySummary;
  submitToOffer: LatencySummary;
  submitToAck: LatencySummary;
  coordinator: {
    pid: number;
    cpuS: number;
    userS: number;
    sysS: number;
    /** CPU seconds per wall second: 1.0 is one core busy all the time. */
    cores: number;
    cpuMsPerJob: number;
    peakRssMb: number;
    rssEndMb: number;
    /** How late the coordinator's timers fired during the measured phase (ms): how long ready work waited for its thread. */
    loopDelay: { p50: number; p99: number; max: number };
    /** With --cpu-prof: the measured phase's profile, as CPU milliseconds per job by category (largest first). */
    cpuPerJobByCategory: { category: string; msPerJob: number }[] | null;
  };
  bench: { cpuS: number; cores: number };
  store: {
    /** Committed transactions (group commits) per job, counted by the SQLite store. */
    writeTxPerJob: number;
    /** Committed write operations (insertJob, replaceJob, appendLog) per job, by what they recorded. */
    writeOpsPerJob: number;
    writeOpsByKindPerJob: Record<string, number>;
    /** The most write operations one commit carried (since the coordinator started). */
    largestBatch: number;
    rolledBack: number;
    /** Milliseconds per job the coordinator's thread spent in group commits (SQLite's work). */
    writeMsPerJob: number;
    /** Mean milliseconds from a commit to the end of its WAL fsync (off the thread; callers wait for it). */
    syncMsPerCommit: number;
    /** Share of the measured wall time the coordinator's thread spent committing. */
    writeBusy: number;
    readBusy: number;
    readsPerJob: number;
    readsByMethodPerJob: Record<string, number>;
    readMsPerJob: number;
  };
  file: FileStats & { eventsPerJob: number; logsPerJob: number };
  messages: {
    toFactories: Record<string, number>;
    fromFactories: Record<string, number>;
    /** Stream messages per job in both directions, hello and welcome excluded. */
    perJob: number;
  };
  /** Encoded size of the ConnectResponse carrying a lease offer, as the factories received them. */
  offerBytes: number;
  /** One of those messages, base64 (the physical baseline sends messages of exactly this content). */
  offerSampleBase64: string | null;
  /** A SubmitJobResponse the coordinator answered in the warm-up (a batch's first result), base64: the Connect floor answers with it. */
  submitAnswerSampleBase64: string | null;
  leaseRevocations: number;
}

const TITLE_PREFIX = 'bench-';
const WARM_PREFIX = 'warm-';

/** The request every dispatch job is submitted with (and the store floor builds its jobs from). */
export function submitRequest(title: string): SubmitJobRequest {
  return create(SubmitJobRequestSchema, {
    productId: 'bench',
    title,
    command: ['/bin/sh', '-c', 'exit 0'],
    env: { BENCH: '1', CI: 'true' },
  });
}

interface Tracker {
  /** When each measured job was submitted (closed loop) or due (open loop), performance.now() ms. */
  submittedAt: Float64Array;
  offered: Uint8Array;
  /** Job id → measured sequence number, from the offer until the result ack. */
  seqByJobId: Map<string, number>;
  toOffer: Latency;
  toAck: Latency;
  done: number;
  warmDone: number;
  lastAckAt: number;
  revoked: number;
  toFactories: Record<string, number>;
  fromFactories: Record<string, number>;
  offerBytes: number[];
  /** One offer exactly as received, re-encoded: the baseline sends messages of its size. */
  offerSample: Uint8Array | null;
  onDone: () => void;
}

function bump(counts: Record<string, number>, kind: string): void {
  counts[kind] = (counts[kind] ?? 0) + 1;
}

/** One bench factory: hello, then accept and succeed every offer at once; heartbeats on the welcome's interval. */
class BenchFactory {
  private readonly client: grpc.Client;
  private readonly stream: FactoryStream;
  private heartbeat: NodeJS.Timeout | null = null;
  private sequence = 0n;
  readonly welcomed: Promise<void>;
  readonly ended: Promise<grpc.StatusObject>;

  constructor(address: string, factoryId: string, slots: number, private readonly t: Tracker) {
    const o = DEFAULT_FACTORY_CLIENT_OPTIONS;
    // The agent's channel options, plus a subchannel pool of its own: every factory gets its own
    // HTTP/2 connection, as separate agent processes would.
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': o.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': o.keepaliveTimeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.max_receive_message_length': o.maxMessageBytes,
      'grpc.max_send_message_length': o.maxMessageBytes,
      'grpc.use_local_subchannel_pool': 1,
    });
    this.stream = openFactoryStream(this.client);
    this.ended = new Promise((resolve) => this.stream.once('status', resolve));
    this.stream.on('error', () => {}); // the status carries it
    let welcome!: () => void;
    this.welcomed = new Promise<void>((resolve, reject) => {
      welcome = resolve;
      // A stream refused before welcome (unauthenticated, bad hello) must fail the run, not hang it.
      void this.ended.then((status) => reject(new Error(`factory ${factoryId}: stream ended before welcome: ${grpc.status[status.code]} ${status.details}`)));
      setTimeout(() => reject(new Error(`factory ${factoryId}: no welcome within 30 s of hello`)), 30_000).unref();
    });
    this.welcomed.catch(() => {}); // observed by runDispatch; this only keeps an early rejection from being "unhandled"
    this.stream.on('data', (m: ConnectResponse) => this.onMessage(m, welcome));
    this.send({ case: 'hello', value: { factoryId, slots, agentVersion: 'bench', labels: { os: 'linux' } } });
  }

  private send(kind: NonNullable<MessageInitShape<typeof ConnectRequestSchema>['kind']>): void {
    if (kind.case && kind.case !== 'hello') bump(this.t.fromFactories, kind.case);
    this.stream.write(create(ConnectRequestSchema, { kind }));
  }

  private onMessage(m: ConnectResponse, welcome: () => void): void {
    const t = this.t;
    const now = performance.now();
    const kind = m.kind;
    if (kind.case !== 'welcome' && kind.case !== undefined) bump(t.toFactories, kind.case);
    switch (kind.case) {
      case 'welcome': {
        const ms = kind.value.heartbeatInterval ? Number(kind.value.heartbeatInterval.seconds) * 1000 + kind.value.heartbeatInterval.nanos / 1e6 : 5_000;
        // Jobs "run" for no time (the result follows the accept at once), so a heartbeat never lists one.
        this.heartbeat = setInterval(() => this.send({ case: 'heartbeat', value: { sequence: ++this.sequence, runningJobs: [] } }), ms);
        welcome();
        return;
      }
      case 'leaseOffer': {
        const { jobId, epoch, job } = kind.value;
        const title = job?.title ?? '';
        if (title.startsWith(TITLE_PREFIX)) {
          const seq = Number(title.slice(TITLE_PREFIX.length));
          t.seqByJobId.set(jobId, seq);
          if (!t.offered[seq]) {
            t.offered[seq] = 1;
            t.toOffer.recordMs(now - t.submittedAt[seq]!);
          }
        }
        if (t.offerBytes.length < 256) {
          const bytes = toBinary(ConnectResponseSchema, m);
          t.offerBytes.push(bytes.byteLength);
          if (t.offerBytes.length === 128) t.offerSample = bytes;
        }
        this.send({ case: 'leaseAccept', value: { jobId, epoch } });
        this.send({ case: 'jobResult', value: { jobId, epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0, message: 'ok' } });
        return;
      }
      case 'resultAck': {
        const { jobId } = kind.value;
        const seq = t.seqByJobId.get(jobId);
        if (seq === undefined) {
          t.warmDone++;
        } else {
          t.seqByJobId.delete(jobId);
          t.toAck.recordMs(now - t.submittedAt[seq]!);
          t.done++;
          t.lastAckAt = now;
        }
        t.onDone();
        return;
      }
      case 'leaseRevoked':
        t.revoked++;
        return;
      default:
        return;
    }
  }

  private closing: Promise<void> | null = null;

  /** Half-closes the stream (a clean goodbye), waits briefly for the status, then drops the channel. Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.stream.end();
      await Promise.race([this.ended, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      this.stream.cancel();
      this.client.close();
    })());
  }
}

type JobClient = Client<typeof JobService>;

/** One JobService client per submitter, each with its own transport and so its own HTTP/2 connection, as separate clients would have. */
export function submitterClients(address: string, submitters: number): JobClient[] {
  return Array.from({ length: submitters }, () => createClient(JobService, createGrpcTransport({ baseUrl: `http://${address}` })));
}

/**
 * Closed loop: `submitters` loops, each submitting its next job (or its next `batch` jobs in one
 * SubmitJobs call) when the previous call returned. `rpc` records call durations; `onAnswer` sees
 * each call's answer (a batch's first result).
 */
export async function submitClosedLoop(clients: JobClient[], count: number, title: (i: number) => string, onSubmit: (i: number, at: number) => void, rpc: Latency | null, deadline = Infinity, batch?: number, onAnswer?: (answer: SubmitJobResponse) => void): Promise<number> {
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < count && performance.now() < deadline) {
        const first = next;
        next = Math.min(count, first + (batch ?? 1));
        const at = performance.now();
        for (let i = first; i < next; i++) onSubmit(i, at);
        if (batch === undefined) {
          const answer = await client.submitJob(submitRequest(title(first)));
          onAnswer?.(answer);
        } else {
          const answer = await client.submitJobs({ jobs: Array.from({ length: next - first }, (_, k) => submitRequest(title(first + k))) });
          if (answer.results[0]) onAnswer?.(answer.results[0]);
        }
        rpc?.recordMs(performance.now() - at);
      }
    }),
  );
  return next;
}

/** Open loop: job i is due at start + i / rate; each is sent when due, without waiting for others. */
async function submitOpenLoop(clients: JobClient[], count: number, rate: number, title: (i: number) => string, onSubmit: (i: number, at: number) => void, rpc: Latency): Promise<void> {
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let next = 0;
  while (next < count && failure === null) {
    const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (next < due) {
      const i = next++;
      const dueAt = start + (i * 1000) / rate;
      onSubmit(i, dueAt);
      const p: Promise<void> = clients[i % clients.length]!
        .submitJob(submitRequest(title(i)))
        .then(
          () => rpc.recordMs(performance.now() - dueAt),
          (err: unknown) => void (failure ??= err),
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  if (failure !== null) throw failure;
}

export async function runDispatch(opts: DispatchOptions): Promise<DispatchResult> {
  const stallTimeoutMs = opts.stallTimeoutMs ?? 30_000;
  const coordinator: CoordinatorHandle = await spawnCoordinator({ synchronous: opts.synchronous, label: opts.label });
  const factories: BenchFactory[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    let wake: () => void = () => {};
    /** Measured jobs to wait for: all asked for, or those submitted before the time cap. */
    let target = opts.jobs;
    const t: Tracker = {
      submittedAt: new Float64Array(opts.jobs),
      offered: new Uint8Array(opts.jobs),
      seqByJobId: new Map(),
      toOffer: new Latency(),
      toAck: new Latency(),
      done: 0,
      warmDone: 0,
      lastAckAt: 0,
      revoked: 0,
      toFactories: {},
      fromFactories: {},
      offerBytes: [],
      offerSample: null,
      onDone: () => wake(),
    };
    const until = (cond: () => boolean, what: string): Promise<void> =>
      new Promise((resolve, reject) => {
        let last = -1;
        let lastChange = performance.now();
        const check = (): void => {
          if (cond()) {
            clearInterval(watchdog);
            wake = () => {};
            resolve();
          }
        };
        const watchdog = setInterval(() => {
          const seen = t.done + t.warmDone;
          if (seen !== last) {
            last = seen;
            lastChange = performance.now();
          } else if (performance.now() - lastChange > stallTimeoutMs) {
            clearInterval(watchdog);
            reject(new Error(`${opts.label}: no job finished for ${stallTimeoutMs} ms while waiting for ${what} (done ${t.done}/${target}, warm-up ${t.warmDone}/${opts.warmupJobs}, revoked ${t.revoked})`));
          }
        }, 500);
        wake = check;
        check();
      });

    for (let i = 0; i < opts.factories; i++) {
      factories.push(new BenchFactory(coordinator.grpcAddress, `bench-factory-${String(i).padStart(3, '0')}`, opts.slots, t));
    }
    await Promise.all(factories.map((f) => f.welcomed));

    const clients = submitterClients(coordinator.grpcAddress, opts.submitters);

    // Warm-up: same path, not measured.
    let submitAnswer: SubmitJobResponse | null = null;
    if (opts.warmupJobs > 0) {
      progress(`[${opts.label}] warm-up: ${opts.warmupJobs} jobs`);
      await submitClosedLoop(clients, opts.warmupJobs, (i) => `${WARM_PREFIX}${i}`, () => {}, null, Infinity, opts.batch, (answer) => (submitAnswer = answer));
      await until(() => t.warmDone >= opts.warmupJobs, 'the warm-up jobs');
    }
    for (const k of Object.keys(t.toFactories)) delete t.toFactories[k];
    for (const k of Object.keys(t.fromFactories)) delete t.fromFactories[k];
    t.offerBytes.length = 0;
    t.revoked = 0;

    // Measured phase.
    const rpc = new Latency();
    let submitted = 0;
    const before: ChildSample = await coordinator.sample('start');
    const benchCpuBefore = process.cpuUsage();
    const started = performance.now();
    let lastDone = 0;
    timers.push(
      setInterval(() => {
        const rate = t.done - lastDone;
        lastDone = t.done;
        progress(`[${opts.label}] ${t.done}/${target} jobs done (${rate}/s), ${submitted} submitted, ${t.seqByJobId.size} offered and not yet acked`);
      }, 1_000),
    );
    const onSubmit = (i: number, at: number): void => {
      t.submittedAt[i] = at;
      submitted++;
    };
    const title = (i: number): string => `${TITLE_PREFIX}${i}`;
    const allDone = until(() => t.done >= target, 'the measured jobs');
    if (opts.rate === undefined) {
      const deadline = opts.maxSubmitSeconds === undefined ? Infinity : started + opts.maxSubmitSeconds * 1000;
      target = await submitClosedLoop(clients, opts.jobs, title, onSubmit, rpc, deadline, opts.batch);
      wake(); // the target may just have dropped below what is already done
    } else {
      await submitOpenLoop(clients, opts.jobs, opts.rate, title, onSubmit, rpc);
    }
    const submitEnded = performance.now();
    await allDone;
    const elapsedMs = t.lastAckAt - started;
    const benchCpu = cpuSeconds(benchCpuBefore, process.cpuUsage());
    const after: ChildSample = await coordinator.sample('end');
    for (const timer of timers) clearInterval(timer);
    const capped = target < opts.jobs;
    progress(`[${opts.label}] ${t.done}/${target} jobs done in ${fmt(elapsedMs / 1000)} s (${fmt((target * 1000) / elapsedMs)} jobs/s)${capped ? `; submitting stopped after ${opts.maxSubmitSeconds} s` : ''}`);
    progressDone();

    await Promise.all(factories.map((f) => f.close()));
    const file = await coordinator.stop();

    const n = target;
    const coordinatorCpu = cpuSeconds(before.cpu, after.cpu);
    const perJob = (v: number): number => v / n;
    const diffKinds = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const k of Object.keys(b)) {
        const d = (b[k] ?? 0) - (a[k] ?? 0);
        if (d !== 0) out[k] = d / n;
      }
      return out;
    };
    const streamMessages = [...Object.values(t.toFactories), ...Object.values(t.fromFactories)].reduce((a, b) => a + b, 0);
    return {
      label: opts.label,
      jobsRequested: opts.jobs,
      capped,
      synchronous: opts.synchronous,
      mode: opts.rate === undefined ? 'closed-loop' : 'open-loop',
      batch: opts.batch ?? null,
      jobs: n,
      factories: opts.factories,
      slots: opts.slots,
      submitters: opts.submitters,
      targetRate: opts.rate ?? null,
      submitRate: (n * 1000) / (submitEnded - started),
      elapsedS: elapsedMs / 1000,
      jobsPerSec: (n * 1000) / elapsedMs,
      submitRpc: rpc.summary(),
      submitToOffer: t.toOffer.summary(),
      submitToAck: t.toAck.summary(),
      coordinator: {
        pid: coordinator.pid,
        cpuS: coordinatorCpu,
        userS: (after.cpu.user - before.cpu.user) / 1e6,
        sysS: (after.cpu.system - before.cpu.system) / 1e6,
        cores: coordinatorCpu / (elapsedMs / 1000),
        cpuMsPerJob: (coordinatorCpu * 1000) / n,
        peakRssMb: after.maxRssKb / 1024,
        rssEndMb: after.rssBytes / (1024 * 1024),
        loopDelay: after.loopDelay,
        cpuPerJobByCategory: after.cpuBreakdown ? after.cpuBreakdown.categories.map((c) => ({ category: c.category, msPerJob: c.ms / n })) : null,
      },
      bench: { cpuS: benchCpu, cores: benchCpu / (elapsedMs / 1000) },
      store: {
        writeTxPerJob: perJob(after.store.commits - before.store.commits),
        writeOpsPerJob: perJob(after.store.writeOps - before.store.writeOps),
        writeOpsByKindPerJob: diffKinds(before.store.writeOpsByKind, after.store.writeOpsByKind),
        largestBatch: after.store.largestBatch,
        rolledBack: after.store.rolledBack - before.store.rolledBack,
        writeMsPerJob: perJob(after.store.commitMs - before.store.commitMs),
        syncMsPerCommit: (after.store.syncMs - before.store.syncMs) / Math.max(1, after.store.commits - before.store.commits),
        writeBusy: (after.store.commitMs - before.store.commitMs) / elapsedMs,
        readBusy: (after.store.readMs - before.store.readMs) / elapsedMs,
        readsPerJob: perJob(after.store.reads - before.store.reads),
        readsByMethodPerJob: diffKinds(before.store.readsByMethod, after.store.readsByMethod),
        readMsPerJob: perJob(after.store.readMs - before.store.readMs),
      },
      file: { ...file, eventsPerJob: file.events / file.jobs, logsPerJob: file.logs / file.jobs },
      messages: { toFactories: { ...t.toFactories }, fromFactories: { ...t.fromFactories }, perJob: streamMessages / n },
      offerBytes: t.offerBytes.length ? t.offerBytes.reduce((a, b) => a + b, 0) / t.offerBytes.length : Number.NaN,
      offerSampleBase64: t.offerSample ? Buffer.from(t.offerSample).toString('base64') : null,
      submitAnswerSampleBase64: submitAnswer ? Buffer.from(toBinary(SubmitJobResponseSchema, submitAnswer)).toString('base64') : null,
      leaseRevocations: t.revoked,
    };
  } catch (err) {
    progressDone();
    coordinator.kill();
    throw err;
  } finally {
    for (const timer of timers) clearInterval(timer);
    await Promise.all(factories.map((f) => f.close().catch(() => {})));
  }
}

/**
 * Scale-out figures (issues 8 and 22): jobs/s and cross-replica pickup delay for 1 to 4 coordinator
 * replicas over the Cosmos DB test server, with the Cosmos round trips and request units per job.
 *
 * For each replica count, on a fresh database:
 * - the Cosmos test server runs in a child process of its own (bench/cosmos-child.ts), the replicas
 *   are real `bin/gigafactory.mjs serve --store cosmos --insecure-dev` processes;
 * - bench factories (grpc-js streams opened with the agent's client, one HTTP/2 connection each,
 *   spread round-robin over the replicas) accept every offer and succeed at once;
 * - throughput: submitters, round-robin over the replicas, each send their next job when the last
 *   was stored (closed loop), so most jobs are stored by one replica and run by another's factory;
 * - pickup: this process stores a job itself (through its own CosmosJobStore, as another replica
 *   would) while every replica is idle (backed off to its slowest poll), and times store → the
 *   LeaseOffer read by a factory;
 * - Cosmos cost: each replica's /metrics (gigafactory_cosmos_requests_total and
 *   gigafactory_cosmos_request_units_total) read before and after the throughput phase.
 *
 * - test beds: each replica count runs on the bare test server (answers in microseconds, never
 *   throttles) and behind test/support/cosmos-proxy.ts (6 ms ± 2 ms per round trip as within an
 *   Azure region, then also with a request-unit budget per container answered 429), so the figures
 *   show what real Cosmos latency and throttling do to them; 429s met are read from /metrics.
 *
 * `runReplicaBench(opts)` returns one row per test bed and replica count; `replicaBenchRows(rows)` renders them
 * for stats.ts's table. Run alone: `node --import tsx bench/replicas.ts [--quick] [--bed <n>]`.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_FACTORY_CLIENT_OPTIONS, openFactoryStream, type FactoryStream } from '../agent/grpc-client.js';
import { ConnectRequestSchema, type ConnectResponse } from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AttemptOutcome } from '../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { systemClock } from '../src/coordinator/clock.js';
import { JobFeed } from '../src/coordinator/job-feed.js';
import { Jobs } from '../src/coordinator/jobs.js';
import { openCosmosStore } from '../src/store/cosmos/index.js';
import type { CosmosProxyOptions } from '../test/support/cosmos-proxy.js';
import { cpuSeconds, fmt, fmtLatency, Latency, progress, progressDone, renderTable, type LatencySummary, type Row } from './stats.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const BIN = join(BENCH_DIR, '..', 'bin', 'gigafactory.mjs');

/** What stands between the replicas and the test server: nothing, or the proxy with these options. */
export interface TestBed {
  name: string;
  proxy: Omit<CosmosProxyOptions, 'target' | 'random' | 'now'> | null;
}

/** RU/s per container of the throttled bed: below what one replica asks for at full speed. */
export const BENCH_RU_PER_SECOND = 1_500;

export const DEFAULT_BEDS: TestBed[] = [
  { name: 'test server', proxy: null },
  { name: '6 ms ± 2 ms', proxy: { delayMs: 6, jitterMs: 2 } },
  { name: `6 ms ± 2 ms, ${BENCH_RU_PER_SECOND} RU/s`, proxy: { delayMs: 6, jitterMs: 2, ruPerSecond: BENCH_RU_PER_SECOND } },
];

export interface ReplicaBenchOptions {
  /** Test beds, each run with every replica count (default DEFAULT_BEDS). */
  beds?: TestBed[];
  /** Replica counts to measure, one run each (default 1, 2, 3, 4). */
  replicaCounts?: number[];
  /** Jobs per throughput run (default 400); submitting also stops after maxSubmitSeconds. */
  jobs?: number;
  /** Stop submitting after this long and measure the jobs sent so far (default 4). */
  maxSubmitSeconds?: number;
  /** Bench factories in all, spread over the replicas (default 6). */
  factories?: number;
  slots?: number;
  /** Concurrent submitters, spread over the replicas (default 6). */
  submitters?: number;
  /** Pickup samples per replica count (default 6), each after 0.9-1.2 s of idleness. */
  pickupSamples?: number;
  /** Progress lines (default: stats.ts's progress on stderr). */
  onProgress?: (line: string) => void;
}

export interface ReplicaBenchRow {
  bed: string;
  replicas: number;
  factories: number;
  slots: number;
  /** Jobs measured (fewer than asked when submitting hit maxSubmitSeconds). */
  jobs: number;
  capped: boolean;
  elapsedS: number;
  jobsPerSec: number;
  submitToAck: LatencySummary;
  /** Stored by another writer (this process) → LeaseOffer read by a factory, replicas idle. Milliseconds. */
  pickup: LatencySummary;
  pickupMs: number[];
  /** Replica start-up: spawn → every replica listening. */
  startupMs: number;
  /**
   * Every replica listening → the partitions of the job space held by the replicas in fair shares
   * (docs/scaling-out.md, "Dividing the work"), read from gigafactory_partitions_held; and the
   * shares. Null for a build without partitions.
   */
  partitions: { settleMs: number; held: number[] } | null;
  cosmos: {
    /** Round trips per job during the throughput phase, all replicas. */
    requestsPerJob: number;
    /** Request units per job (the test server charges 1 per request; production charges by work). */
    requestUnitsPerJob: number;
    /** Round trips per job by store operation (jobs container), and `control` (credentials, settings). */
    requestsPerJobByOperation: Record<string, number>;
    /** Round trips per second of all replicas while idle (the pickup phase): polls, reaper, checks. */
    idleRequestsPerSec: number;
    idleRequestsPerSecByOperation: Record<string, number>;
    /** 429s the replicas met per job during the throughput phase (each retried after the server's retry-after). */
    throttledPerJob: number;
  };
  /** CPU during the throughput phase, in cores (1.0 = one core busy): what bounds the figures on one machine. */
  cpu: { replicas: number; testServer: number; bench: number };
}

/** The idle-cost window. */
const IDLE_MS = 2_000;

const DEFAULTS: Required<Omit<ReplicaBenchOptions, 'onProgress'>> = { beds: DEFAULT_BEDS, replicaCounts: [1, 2, 3, 4], jobs: 400, maxSubmitSeconds: 4, factories: 6, slots: 4, submitters: 6, pickupSamples: 6 };

export async function runReplicaBench(options: ReplicaBenchOptions = {}): Promise<ReplicaBenchRow[]> {
  const o = { ...DEFAULTS, ...options };
  const say = options.onProgress ?? progress;
  const root = mkdtempSync(join(tmpdir(), 'gigafactory-bench-replicas-'));
  const rows: ReplicaBenchRow[] = [];
  try {
    for (const bed of o.beds) {
      const cosmos = await startCosmosChild(bed);
      try {
        for (const n of o.replicaCounts) rows.push(await runOne(n, o, bed, cosmos, root, say));
      } finally {
        cosmos.stop();
      }
    }
  } finally {
    if (!options.onProgress) progressDone();
    rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

type Resolved = Required<Omit<ReplicaBenchOptions, 'onProgress'>>;

async function runOne(n: number, o: Resolved, bed: TestBed, cosmos: CosmosChild, root: string, say: (line: string) => void): Promise<ReplicaBenchRow> {
  const database = `bench-${n}-${Date.now().toString(36)}`;
  const label = `[${bed.name}, ${n} replica${n > 1 ? 's' : ''}]`;
  say(`${label} starting ${n} replica process${n > 1 ? 'es' : ''}`);
  const startedAt = performance.now();
  const replicas = await Promise.all(Array.from({ length: n }, (_, i) => spawnReplica(join(root, `${n}-${i}`), cosmos, database)));
  const startupMs = performance.now() - startedAt;
  const partitions = await settledPartitions(replicas, label, say);
  const tracker = new Tracker();
  const factories: BenchFactory[] = [];
  const store = await openCosmosStore({ endpoint: cosmos.endpoint, key: cosmos.key, database });
  try {
    for (let i = 0; i < o.factories; i++) factories.push(new BenchFactory(replicas[i % n]!.grpcAddress, `bench-${i}`, o.slots, tracker));
    await Promise.all(factories.map((f) => f.welcomed));

    // Throughput: closed loop, submitter i on replica i % n.
    const clients = Array.from({ length: o.submitters }, (_, i) => createClient(JobService, createGrpcTransport({ baseUrl: `http://${replicas[i % n]!.grpcAddress}` })));
    const before = await Promise.all(replicas.map((r) => scrapeCosmos(r.httpAddress)));
    const serverCpuBefore = await cosmos.cpu();
    const benchCpuBefore = process.cpuUsage();
    const started = performance.now();
    const deadline = started + o.maxSubmitSeconds * 1000;
    let next = 0;
    const ticker = setInterval(() => say(`${label} throughput: ${tracker.acked} of ${next} submitted jobs done`), 1_000);
    await Promise.all(
      clients.map(async (client) => {
        while (next < o.jobs && performance.now() < deadline) {
          const title = `rb-${next++}`;
          tracker.submitted(title);
          await client.submitJob({ productId: 'bench', title, command: ['/bin/sh', '-c', 'exit 0'] });
        }
      }),
    );
    const jobs = next;
    await tracker.until(() => tracker.acked >= jobs, 60_000, () => `${label} ${tracker.acked}/${jobs} jobs done`);
    clearInterval(ticker);
    const elapsedMs = tracker.lastAckAt - started;
    const benchCpu = cpuSeconds(benchCpuBefore, process.cpuUsage());
    const serverCpuAfter = await cosmos.cpu();
    const after = await Promise.all(replicas.map((r) => scrapeCosmos(r.httpAddress)));
    say(`${label} throughput: ${jobs} jobs in ${fmt(elapsedMs / 1000)} s (${fmt((jobs * 1000) / elapsedMs)} jobs/s)`);

    // Idle cost: nothing to do for IDLE_MS, once the replicas backed off to their slowest poll.
    await sleep(1_000);
    const idleFrom = await Promise.all(replicas.map((r) => scrapeCosmos(r.httpAddress)));
    const idleStart = performance.now();
    await sleep(IDLE_MS);
    const idle = await Promise.all(replicas.map((r) => scrapeCosmos(r.httpAddress)));
    const idleSeconds = (performance.now() - idleStart) / 1000;

    // Pickup: stored by "another replica" (this process) while every replica is idle.
    const elsewhere = new Jobs(store, new JobFeed(), systemClock);
    const pickupMs: number[] = [];
    for (let i = 0; i < o.pickupSamples; i++) {
      // Past the 50→500 ms back-off (750 ms without work): every replica polls at its slowest, at a random phase.
      if (i > 0) await sleep(900 + Math.random() * 300);
      const title = `pickup-${i}`;
      await elsewhere.submit({ productId: 'bench', title, command: ['true'], env: {}, requiredLabels: [], priority: 0, idempotencyKey: '', maxAttempts: 0, timeoutMs: 0 }, 'bench');
      tracker.submitted(title);
      const stored = performance.now();
      await tracker.until(() => tracker.offeredAt.has(title), 10_000, () => `${label} waiting for ${title} to be offered`);
      pickupMs.push(tracker.offeredAt.get(title)! - stored);
      say(`${label} pickup ${i + 1}/${o.pickupSamples}: ${fmt(pickupMs.at(-1)!)} ms`);
    }
    await tracker.until(() => tracker.acked >= jobs + o.pickupSamples, 10_000, () => `${label} pickup jobs to finish`);

    const perJob = diffCosmos(before, after);
    const idleDiff = diffCosmos(idleFrom, idle);
    const pickup = new Latency();
    for (const ms of pickupMs) pickup.recordMs(ms);
    return {
      bed: bed.name,
      replicas: n,
      factories: o.factories,
      slots: o.slots,
      jobs,
      capped: jobs < o.jobs,
      elapsedS: elapsedMs / 1000,
      jobsPerSec: (jobs * 1000) / elapsedMs,
      submitToAck: tracker.toAck.summary(),
      pickup: pickup.summary(),
      pickupMs,
      startupMs,
      partitions,
      cosmos: {
        requestsPerJob: perJob.requests / jobs,
        requestUnitsPerJob: perJob.units / jobs,
        requestsPerJobByOperation: Object.fromEntries(Object.entries(perJob.byOperation).map(([op, v]) => [op, v / jobs])),
        idleRequestsPerSec: idleDiff.requests / idleSeconds,
        idleRequestsPerSecByOperation: Object.fromEntries(Object.entries(idleDiff.byOperation).map(([op, v]) => [op, v / idleSeconds])),
        throttledPerJob: perJob.throttled / jobs,
      },
      cpu: {
        replicas: after.reduce((sum, a, i) => sum + a.cpuSeconds - before[i]!.cpuSeconds, 0) / (elapsedMs / 1000),
        testServer: cpuSeconds(serverCpuBefore, serverCpuAfter) / (elapsedMs / 1000),
        bench: benchCpu / (elapsedMs / 1000),
      },
    };
  } finally {
    await Promise.all(factories.map((f) => f.close()));
    await Promise.all(replicas.map((r) => r.stop()));
    await store.close();
  }
}

/** Rows for stats.ts's renderTable: one section per replica count, then a summary. */
export function replicaBenchRows(rows: readonly ReplicaBenchRow[]): Row[] {
  const out: Row[] = [];
  for (const [i, r] of rows.entries()) {
    if (rows[i - 1]?.bed !== r.bed) out.push({ section: `Replicas over the Cosmos DB test server (${r.bed}) — ${r.factories} factories × ${r.slots} slots spread over the replicas; jobs submitted round-robin to the replicas (closed loop)` });
    const name = `${r.replicas} replica${r.replicas > 1 ? 's' : ''}`;
    const top = (counts: Record<string, number>): string =>
      Object.entries(counts)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([op, v]) => `${op} ${fmt(v)}`)
        .join(', ');
    const topOps = top(r.cosmos.requestsPerJobByOperation);
    out.push([`${name}: throughput`, fmt(r.jobsPerSec), 'jobs/s', `${r.jobs} jobs${r.capped ? ' (submitting capped)' : ''} in ${fmt(r.elapsedS)} s; submit → result ack p50 / p99 ${fmtLatency(r.submitToAck, ['p50', 'p99'])} ms; CPU cores: replicas ${fmt(r.cpu.replicas)}, test server ${fmt(r.cpu.testServer)}, bench ${fmt(r.cpu.bench)}`]);
    out.push([`${name}: cross-replica pickup  p50 / max`, fmtLatency(r.pickup, ['p50', 'max']), 'ms', `stored by another writer → LeaseOffer read, replicas idle; samples ${r.pickupMs.map((v) => fmt(v)).join(', ')}`]);
    out.push([`${name}: Cosmos round trips`, fmt(r.cosmos.requestsPerJob), 'per job', topOps]);
    out.push([`${name}: request units`, fmt(r.cosmos.requestUnitsPerJob), 'RU/job', `x-ms-request-charge summed by the SDK (${r.bed === 'test server' ? 'the test server charges 1 per request' : "the proxy's RU model"}); 429s met ${fmt(r.cosmos.throttledPerJob)} per job`]);
    out.push([`${name}: idle cost`, fmt(r.cosmos.idleRequestsPerSec), 'requests/s', `all replicas, no work: ${top(r.cosmos.idleRequestsPerSecByOperation)}; start-up ${fmt(r.startupMs / 1000)} s`]);
    out.push([`${name}: idle cost per replica`, fmt(r.cosmos.idleRequestsPerSec / r.replicas), 'requests/s', 'the line above divided by the replica count']);
    if (r.partitions) {
      const settled = Number.isFinite(r.partitions.settleMs);
      out.push([`${name}: partitions settled`, settled ? fmt(r.partitions.settleMs) : `> ${SETTLE_WAIT_MS / 1000} s`, settled ? 'ms' : '', `every replica listening → the 64 partitions held in fair shares (${r.partitions.held.join(' / ')}${settled ? '' : ', still moving when measuring began'})`]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

interface CosmosChild {
  endpoint: string;
  key: string;
  cpu(): Promise<NodeJS.CpuUsage>;
  stop(): void;
}

async function startCosmosChild(bed: TestBed): Promise<CosmosChild> {
  const child = fork(join(BENCH_DIR, 'cosmos-child.ts'), bed.proxy ? [JSON.stringify(bed.proxy)] : [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const first = await new Promise<{ endpoint: string; key: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { endpoint: string; key: string }));
    child.once('exit', (code) => reject(new Error(`the Cosmos test server process exited (${code}) before it listened`)));
  });
  return {
    ...first,
    cpu: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve((m as { cpu: NodeJS.CpuUsage }).cpu));
        child.send({ t: 'cpu' });
      }),
    stop: () => {
      if (child.connected) child.disconnect();
    },
  };
}

interface Replica {
  grpcAddress: string;
  httpAddress: string;
  /** SIGTERM, then the `store stats` line it logs at shutdown. */
  stop(): Promise<Record<string, unknown> | null>;
}

/** `gigafactory serve --store cosmos --insecure-dev` on ephemeral ports; resolves once both listeners are up. */
async function spawnReplica(dataDir: string, cosmos: CosmosChild, database: string): Promise<Replica> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--store', 'cosmos', '--insecure-dev', '--data-dir', dataDir, '--grpc-port', '0', '--http-port', '0'], {
    env: { ...process.env, GIGAFACTORY_LOG_LEVEL: 'info', GIGAFACTORY_COSMOS_ENDPOINT: cosmos.endpoint, GIGAFACTORY_COSMOS_KEY: cosmos.key, GIGAFACTORY_COSMOS_DATABASE: database },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const listening: Record<string, string> = {};
  let stats: Record<string, unknown> | null = null;
  const tail: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const up = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (text) => {
      tail.push(text);
      if (tail.length > 20) tail.shift();
      let line: { msg?: string; listener?: string; address?: string; cosmos?: Record<string, unknown> };
      try {
        line = JSON.parse(text) as typeof line;
      } catch {
        return;
      }
      if (line.msg === 'listening' && line.listener && line.address) listening[line.listener] = line.address;
      if (line.msg === 'store stats' && line.cosmos) stats = line.cosmos;
      if (listening.grpc && listening.http) resolve();
    });
    void exited.then(() => reject(new Error(`replica exited before listening:\n${tail.join('\n')}`)));
  });
  await up;
  return {
    grpcAddress: listening.grpc!,
    httpAddress: listening.http!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return stats;
    },
  };
}

/** Partitions held per replica (gigafactory_partitions_held), or null when the build has no such gauge. */
async function partitionsHeld(httpAddress: string): Promise<number | null> {
  const text = await (await fetch(`http://${httpAddress}/metrics`)).text();
  const m = /^gigafactory_partitions_held (\S+)$/m.exec(text);
  return m ? Number(m[1]) : null;
}

const SETTLE_WAIT_MS = 60_000;

/** Waits (up to SETTLE_WAIT_MS) until the replicas hold every partition in fair shares; how long that took (Infinity: never). */
async function settledPartitions(replicas: Replica[], label: string, say: (line: string) => void): Promise<{ settleMs: number; held: number[] } | null> {
  const started = performance.now();
  for (;;) {
    const held = await Promise.all(replicas.map((r) => partitionsHeld(r.httpAddress)));
    if (held.some((h) => h === null)) return null;
    const counts = held as number[];
    const fair = counts.reduce((a, b) => a + b, 0) === 64 && Math.max(...counts) - Math.min(...counts) <= 1;
    if (fair) return { settleMs: performance.now() - started, held: counts };
    if (performance.now() - started > SETTLE_WAIT_MS) {
      // On a machine too loaded for the replicas to step in time: measure anyway, and say so.
      say(`${label} partitions not settled after ${SETTLE_WAIT_MS / 1000} s: ${counts.join(' / ')}`);
      return { settleMs: Number.POSITIVE_INFINITY, held: counts };
    }
    say(`${label} partitions held: ${counts.join(' / ')}`);
    await sleep(100);
  }
}

interface CosmosCounters {
  /** The replica's process CPU seconds (user + system), from the same scrape. */
  cpuSeconds: number;
  requests: number;
  units: number;
  throttled: number;
  byOperation: Record<string, number>;
}

/** The replica's Cosmos counters from its Prometheus endpoint. */
async function scrapeCosmos(httpAddress: string): Promise<CosmosCounters> {
  const text = await (await fetch(`http://${httpAddress}/metrics`)).text();
  const out: CosmosCounters = { cpuSeconds: 0, requests: 0, units: 0, throttled: 0, byOperation: {} };
  for (const line of text.split('\n')) {
    const cpu = /^\w*process_cpu_seconds_total (\S+)$/.exec(line);
    if (cpu) out.cpuSeconds = Number(cpu[1]);
    const throttled = /^gigafactory_cosmos_throttled_total\{[^}]*\} (\S+)$/.exec(line);
    if (throttled) out.throttled += Number(throttled[1]);
    const m = /^gigafactory_cosmos_(requests_total|request_units_total)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const op = labels.container === 'control' ? 'control' : (labels.operation ?? '?');
    if (m[1] === 'requests_total') {
      out.requests += value;
      out.byOperation[op] = (out.byOperation[op] ?? 0) + value;
    } else {
      out.units += value;
    }
  }
  return out;
}

function diffCosmos(before: CosmosCounters[], after: CosmosCounters[]): CosmosCounters {
  const out: CosmosCounters = { cpuSeconds: 0, requests: 0, units: 0, throttled: 0, byOperation: {} };
  after.forEach((a, i) => {
    const b = before[i]!;
    out.cpuSeconds += a.cpuSeconds - b.cpuSeconds;
    out.throttled += a.throttled - b.throttled;
    out.requests += a.requests - b.requests;
    out.units += a.units - b.units;
    for (const [op, v] of Object.entries(a.byOperation)) {
      const d = v - (b.byOperation[op] ?? 0);
      if (d !== 0) out.byOperation[op] = (out.byOperation[op] ?? 0) + d;
    }
  });
  return out;
}

/** Submit and offer times by job title, acks counted. */
class Tracker {
  readonly submittedAt = new Map<string, number>();
  readonly offeredAt = new Map<string, number>();
  readonly titleOf = new Map<string, string>();
  readonly toAck = new Latency();
  acked = 0;
  lastAckAt = 0;
  private waiters: (() => void)[] = [];

  submitted(title: string): void {
    this.submittedAt.set(title, performance.now());
  }

  offered(jobId: string, title: string): void {
    this.titleOf.set(jobId, title);
    if (!this.offeredAt.has(title)) this.offeredAt.set(title, performance.now());
    this.wake();
  }

  ackedJob(jobId: string): void {
    const title = this.titleOf.get(jobId);
    this.titleOf.delete(jobId);
    const now = performance.now();
    const at = title === undefined ? undefined : this.submittedAt.get(title);
    if (title?.startsWith('rb-') && at !== undefined) this.toAck.recordMs(now - at);
    this.acked++;
    this.lastAckAt = now;
    this.wake();
  }

  /** Resolves when `done()` holds; fails when nothing happened for `stallMs`. */
  async until(done: () => boolean, stallMs: number, what: () => string): Promise<void> {
    let last = performance.now();
    let seen = this.acked + this.offeredAt.size;
    while (!done()) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 250).unref();
      });
      const now = this.acked + this.offeredAt.size;
      if (now !== seen) {
        seen = now;
        last = performance.now();
      } else if (performance.now() - last > stallMs) {
        throw new Error(`replica bench stalled for ${stallMs} ms: ${what()}`);
      }
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** A factory that accepts every offer and succeeds at once (as bench/dispatch.ts's do). */
class BenchFactory {
  private readonly client: grpc.Client;
  private readonly stream: FactoryStream;
  private heartbeat: NodeJS.Timeout | null = null;
  private sequence = 0n;
  readonly welcomed: Promise<void>;
  private readonly ended: Promise<unknown>;

  constructor(address: string, factoryId: string, slots: number, private readonly t: Tracker) {
    const o = DEFAULT_FACTORY_CLIENT_OPTIONS;
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': o.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': o.keepaliveTimeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.use_local_subchannel_pool': 1,
    });
    this.stream = openFactoryStream(this.client);
    this.ended = new Promise((resolve) => this.stream.once('status', resolve));
    this.stream.on('error', () => {});
    this.welcomed = new Promise<void>((resolve, reject) => {
      this.stream.on('data', (m: ConnectResponse) => this.onMessage(m, resolve));
      void this.ended.then(() => reject(new Error(`factory ${factoryId}: stream ended before welcome`)));
      setTimeout(() => reject(new Error(`factory ${factoryId}: no welcome within 30 s`)), 30_000).unref();
    });
    this.welcomed.catch(() => {});
    this.send({ case: 'hello', value: { factoryId, slots, agentVersion: 'bench', labels: { os: 'linux' } } });
  }

  private send(kind: NonNullable<MessageInitShape<typeof ConnectRequestSchema>['kind']>): void {
    this.stream.write(create(ConnectRequestSchema, { kind }));
  }

  private onMessage(m: ConnectResponse, welcome: () => void): void {
    const kind = m.kind;
    switch (kind.case) {
      case 'welcome': {
        const ms = kind.value.heartbeatInterval ? Number(kind.value.heartbeatInterval.seconds) * 1000 + kind.value.heartbeatInterval.nanos / 1e6 : 5_000;
        this.heartbeat = setInterval(() => this.send({ case: 'heartbeat', value: { sequence: ++this.sequence, runningJobs: [] } }), ms);
        welcome();
        return;
      }
      case 'leaseOffer': {
        const { jobId, epoch, job } = kind.value;
        this.t.offered(jobId, job?.title ?? '');
        this.send({ case: 'leaseAccept', value: { jobId, epoch } });
        this.send({ case: 'jobResult', value: { jobId, epoch, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0, message: 'ok' } });
        return;
      }
      case 'resultAck':
        this.t.ackedJob(kind.value.jobId);
        return;
      default:
        return;
    }
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.stream.end();
    await Promise.race([this.ended, sleep(2_000)]);
    this.stream.cancel();
    this.client.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Run alone: prints the table.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  // --bed <n>: only DEFAULT_BEDS[n] (0 the bare test server, 1 the 6 ms proxy, 2 with an RU budget).
  const bed = process.argv.indexOf('--bed');
  const beds = bed > 0 ? [DEFAULT_BEDS[Number(process.argv[bed + 1])]!] : DEFAULT_BEDS;
  const started = Date.now();
  const rows = await runReplicaBench({ beds, ...(quick ? { jobs: 150, maxSubmitSeconds: 2, pickupSamples: 3 } : {}) });
  process.stdout.write(`${renderTable(`Gigafactory replica benchmark${quick ? ' (quick)' : ''} — ${fmt((Date.now() - started) / 1000)} s`, replicaBenchRows(rows))}\n`);
  process.exit(0);
}

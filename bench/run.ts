/**
 * `npm run bench`: dispatch at peak and at half the peak rate, BullMQ on the same workload, the
 * physical gRPC and disk baselines and the transport floors (grpc-js and connect-node: each
 * transport's own ceiling), fleet size, recovery, log latency, the scheduler's decision cost, Cosmos
 * replicas and the packaged agent's start-up, in one run (`--only` picks parts). Prints one table on
 * stdout, progress on stderr, and writes every figure as JSON to bench/results/<timestamp>.json. See
 * bench/README.md for what each figure means.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBaseline, runCommitBaseline, sampleLeaseOffer, type BaselineResult, type BaselineRun, type CommitRun } from './baseline.js';
import { ceilingNote, MESSAGES_PER_JOB, runTransportFloor, transportFloorRows, type Transport, type TransportCeiling, type TransportFloorResult } from './transport-floor.js';
import type { Synchronous } from './coordinator-child.js';
import { runDispatch, submitRequest, type DispatchResult } from './dispatch.js';
import { runStoreFloor, type StoreFloorRun } from './store-floor.js';
import { jobSpecFromRequest } from '../src/api/submit-request.js';
import { fmt, fmtDelay, fmtLatency, medianOf, progress, progressDone, renderTable, type Row } from './stats.js';
import { runSchedulerBench, type SchedulerCell } from './scheduler.js';
import { replicaBenchRows, runReplicaBench } from './replicas.js';
import { bullmqRows, runBullmqComparison, type BullmqComparison } from './bullmq.js';
import { fleetRows, runFleet, type FleetResult } from './fleet.js';
import { logsRows, runLogs, type LogsResult } from './logs.js';
import { recoveryRows, runRecovery } from './recovery.js';
import { agentStartRows, runAgentStart } from './agent-start.js';
import { cliStartRows, runCliStart } from './cli-start.js';
import { artifactsRows, runArtifactsBench } from './artifacts.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

const positiveInt = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
  return n;
};
const positiveNumber = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};
/** The parts of the suite, in the order they run; `--only` picks some of them. */
const PARTS = ['dispatch', 'bullmq', 'baseline', 'fleet', 'recovery', 'logs', 'scheduler', 'replicas', 'agent-start', 'cli-start', 'artifacts'] as const;
type Part = (typeof PARTS)[number];
const partList = (value: string): Part[] => {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(PARTS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`${unknown.length ? `unknown part "${unknown.join('", "')}"` : 'no part named'}: choose from ${PARTS.join(', ')}`);
  return names as Part[];
};
const fraction = (value: string): number => {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('must be between 0 and 1, exclusive');
  return n;
};

interface Options {
  quick?: boolean;
  jobs?: number;
  maxSeconds?: number;
  warmup?: number;
  factories: number;
  slots: number;
  submitters: number;
  runs: number;
  pacedFraction: number;
  pacedSeconds?: number;
  baselineRuns: number;
  baselineSeconds?: number;
  synchronous: Synchronous;
  cpuProf?: string;
  paced: boolean;
  batch: number;
  batched: boolean;
  baseline: boolean;
  scheduler: boolean;
  replicas: boolean;
  bullmq: boolean;
  fleet: boolean;
  fleetStreams?: number;
  fleetProcesses?: number;
  fleetPerConnection: number;
  fleetSeconds?: number;
  recovery: boolean;
  recoveryRuns?: number;
  logs: boolean;
  logLines?: number;
  agentStart: boolean;
  agentStartRounds?: number;
  cliStart: boolean;
  cliStartRounds?: number;
  artifacts: boolean;
  artifactMb?: number;
  artifactChunkKib: number;
  only?: Part[];
  out: string;
}

const program = new Command('bench')
  .description('Gigafactory benchmark suite: dispatch (peak and half rate), BullMQ on the same workload, gRPC and disk baselines, fleet size, recovery, log latency, scheduler cost, Cosmos replicas')
  .option('--quick', 'a short run: 2,000 jobs, 6 s at half rate, 1 s per baseline mode')
  .addOption(new Option('--jobs <n>', 'jobs submitted in the peak run (default 20000, --quick 2000)').env('BENCH_JOBS').argParser(positiveInt('--jobs')))
  .addOption(new Option('--warmup <n>', 'unmeasured jobs before each measured run (default jobs/10, from 100 to 500)').env('BENCH_WARMUP').argParser(positiveInt('--warmup')))
  .addOption(new Option('--factories <m>', 'factory streams').env('BENCH_FACTORIES').default(32).argParser(positiveInt('--factories')))
  .addOption(new Option('--slots <n>', 'slots each factory announces in hello').env('BENCH_SLOTS').default(4).argParser(positiveInt('--slots')))
  .addOption(new Option('--submitters <k>', 'concurrent JobService clients').env('BENCH_SUBMITTERS').default(4).argParser(positiveInt('--submitters')))
  .addOption(new Option('--max-seconds <s>', 'stop submitting in the peak run after this long and measure the jobs sent so far (default 120, --quick 40)').env('BENCH_MAX_SECONDS').argParser(positiveNumber('--max-seconds')))
  .addOption(new Option('--runs <n>', 'peak runs (each on a fresh coordinator); the median run is reported').env('BENCH_RUNS').default(1).argParser(positiveInt('--runs')))
  .addOption(new Option('--paced-fraction <f>', 'open-loop rate as a fraction of the measured peak').default(0.5).argParser(fraction))
  .addOption(new Option('--paced-seconds <s>', 'length of the open-loop run (default 15, --quick 6)').argParser(positiveNumber('--paced-seconds')))
  .addOption(new Option('--baseline-runs <n>', 'baseline repetitions (median reported)').default(3).argParser(positiveInt('--baseline-runs')))
  .addOption(new Option('--baseline-seconds <s>', 'seconds per baseline mode and run (default 2, --quick 1)').argParser(positiveNumber('--baseline-seconds')))
  .addOption(new Option('--cpu-prof <dir>', 'profile each coordinator child\'s measured phase: its .cpuprofile goes into <dir> (open it in Chrome DevTools) and the table says where its CPU went').env('BENCH_CPU_PROF'))
  .addOption(new Option('--synchronous <mode>', 'SQLite commit durability in the coordinator: full is the product setting (fsync per commit)').choices(['full', 'normal', 'off']).default('full'))
  .option('--no-paced', 'skip the half-rate run')
  .addOption(new Option('--batch <n>', 'jobs per SubmitJobs call in the batched peak run (BullMQ addBulk uses 100)').default(100).argParser(positiveInt('--batch')))
  .option('--no-batched', 'skip the batched (SubmitJobs) peak run')
  .option('--no-baseline', 'skip the baselines: gRPC, disk and the Connect floor')
  .option('--no-scheduler', 'skip the scheduler decision-cost grid')
  .option('--no-bullmq', 'skip the BullMQ comparison')
  .addOption(new Option('--fleet-streams <n>', 'idle factory streams in the fleet-size part (default 10000, --quick 2000)').env('BENCH_FLEET_STREAMS').argParser(positiveInt('--fleet-streams')))
  .addOption(new Option('--fleet-processes <n>', 'load processes the fleet streams come from (default 4, --quick 2)').argParser(positiveInt('--fleet-processes')))
  .addOption(new Option('--fleet-per-connection <n>', 'fleet streams multiplexed on one HTTP/2 connection').default(500).argParser(positiveInt('--fleet-per-connection')))
  .addOption(new Option('--fleet-seconds <s>', 'measured idle window of the fleet-size part (default 30, --quick 10)').argParser(positiveNumber('--fleet-seconds')))
  .option('--no-fleet', 'skip the fleet-size part')
  .addOption(new Option('--recovery-runs <n>', 'repetitions of each recovery path (default 5, --quick 1)').argParser(positiveInt('--recovery-runs')))
  .option('--no-recovery', 'skip the recovery part')
  .addOption(new Option('--log-lines <n>', 'lines the log-latency job prints, one every 20 ms (default 500, --quick 200)').argParser(positiveInt('--log-lines')))
  .option('--no-logs', 'skip the log-latency part')
  .option('--no-replicas', 'skip the Cosmos replica runs (1, 2 and 3 replicas over the Cosmos test server)')
  .addOption(new Option('--agent-start-rounds <n>', 'rounds of the agent start-up part (default 15, --quick 5)').argParser(positiveInt('--agent-start-rounds')))
  .option('--no-agent-start', "skip the packaged agent's start-up")
  .addOption(new Option('--cli-start-rounds <n>', 'rounds of the CLI start-up part (default 15, --quick 5)').argParser(positiveInt('--cli-start-rounds')))
  .option('--no-cli-start', "skip the CLI's start-up (compiled against tsx)")
  .addOption(new Option('--artifact-mb <n>', 'MiB in the artifacts part\'s blob (default 100, --quick 20)').argParser(positiveInt('--artifact-mb')))
  .addOption(new Option('--artifact-chunk-kib <n>', 'KiB per upload chunk in the artifacts part').default(1024).argParser(positiveInt('--artifact-chunk-kib')))
  .option('--no-artifacts', 'skip the artifacts part (blob store upload MiB/s beside cp)')
  .addOption(new Option('--only <parts>', `run only these parts, comma-separated: ${PARTS.join(', ')} (dispatch is the peak, half-rate and batched runs)`).argParser(partList))
  .option('--out <dir>', 'where the JSON result goes', join(BENCH_DIR, 'results'));

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const jobs = o.jobs ?? (o.quick ? 2_000 : 20_000);
  const warmupJobs = o.warmup ?? Math.min(500, Math.max(100, Math.round(jobs / 10)));
  const pacedSeconds = o.pacedSeconds ?? (o.quick ? 6 : 15);
  const baselineSeconds = o.baselineSeconds ?? (o.quick ? 1 : 2);
  const maxSubmitSeconds = o.maxSeconds ?? (o.quick ? 40 : 120);
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  const common = { warmupJobs, factories: o.factories, slots: o.slots, submitters: o.submitters, synchronous: o.synchronous };
  if (o.cpuProf) process.env.BENCH_CPU_PROF = resolve(o.cpuProf); // read by spawnCoordinator (coordinator-child.ts)
  const runs = (part: Part, enabled = true): boolean => enabled && (o.only ? o.only.includes(part) : true);
  const doBaseline = runs('baseline', o.baseline);

  // The disk before anything else runs: with the probe after the runs, it shows whether the disk
  // changed under the benchmark (other work on the machine).
  let diskBefore: CommitRun | null = null;
  if (doBaseline) {
    progress(`[baseline] disk before the dispatch runs: SQLite commits for ${baselineSeconds} s`);
    diskBefore = runCommitBaseline({ seconds: baselineSeconds, synchronous: o.synchronous });
    progressDone();
  }

  // 1. Peak: closed loop.
  const peaks: DispatchResult[] = [];
  for (let i = 0; runs('dispatch') && i < o.runs; i++) {
    peaks.push(await runDispatch({ ...common, label: o.runs > 1 ? `peak ${i + 1}/${o.runs}` : 'peak', jobs, maxSubmitSeconds }));
  }
  const peak = peaks.length ? [...peaks].sort((a, b) => a.jobsPerSec - b.jobsPerSec)[(peaks.length - 1) >> 1]! : null;

  // 2. The same at a fraction of the peak rate: open loop.
  let paced: DispatchResult | null = null;
  if (peak && o.paced) {
    const rate = peak.jobsPerSec * o.pacedFraction;
    const pacedJobs = Math.max(100, Math.round(rate * pacedSeconds));
    paced = await runDispatch({ ...common, label: `${Math.round(o.pacedFraction * 100)}% rate`, jobs: pacedJobs, rate });
  }

  // The peak again with SubmitJobs, `--batch` jobs per call: the counterpart of BullMQ's addBulk run.
  const batched = runs('dispatch') && o.batched ? await runDispatch({ ...common, label: `SubmitJobs ×${o.batch}`, jobs, maxSubmitSeconds, batch: o.batch }) : null;

  // The same workload on BullMQ over a local Redis, right after ours so both see the same machine.
  const bullmq = runs('bullmq', o.bullmq) ? await guarded('bullmq', () => runBullmqComparison({ jobs, warmupJobs, workers: o.factories, concurrency: o.slots, submitters: o.submitters, maxSubmitSeconds })) : null;

  // 3. The physical baseline.
  let baseline: Baseline | null = null;
  if (doBaseline) {
    const message = peak?.offerSampleBase64 ? Buffer.from(peak.offerSampleBase64, 'base64') : null;
    const result = await runBaseline({ runs: o.baselineRuns, seconds: baselineSeconds, message, onProgress: progress });
    const disk: CommitRun[] = [];
    for (let i = 0; i < o.baselineRuns; i++) {
      progress(`[baseline] disk run ${i + 1}/${o.baselineRuns}: SQLite commits for ${baselineSeconds} s`);
      disk.push(runCommitBaseline({ seconds: baselineSeconds, synchronous: o.synchronous }));
    }
    progressDone();
    const medianDisk = [...disk].sort((a, b) => a.commitsPerSec - b.commitsPerSec)[(disk.length - 1) >> 1]!;
    // The transport floors: grpc-js (the native listener) and connect-node (the gateway's adapter)
    // serving calls and stream messages with nothing behind them, one after the other.
    const answer = peak?.submitAnswerSampleBase64 ?? batched?.submitAnswerSampleBase64;
    const floors: TransportFloorResult[] = [];
    for (const transport of ['grpc-js', 'connect-node'] satisfies Transport[]) {
      const floor = await guarded('baseline', () =>
        runTransportFloor({ transport, runs: o.baselineRuns, seconds: baselineSeconds, idleStreams: o.quick ? 500 : 2_000, submitters: o.submitters, batch: o.batch, answer: answer ? Buffer.from(answer, 'base64') : null, offer: message, onProgress: progress }),
      );
      if (floor) floors.push(floor);
    }
    progressDone();
    // The store's floor: a dispatched job's four durable writes through the real store, nothing else.
    const storeFloors: StoreFloorRun[] = [];
    for (let i = 0; i < o.baselineRuns; i++) {
      progress(`[baseline] store floor run ${i + 1}/${o.baselineRuns}: a job's four writes through the SQLite store`);
      storeFloors.push(await runStoreFloor({ spec: jobSpecFromRequest(submitRequest('floor')), jobs: o.quick ? 1_000 : 3_000, concurrency: 8, warmup: 200 }));
    }
    progressDone();
    const storeFloor = [...storeFloors].sort((a, b) => a.cpuMsPerJob - b.cpuMsPerJob)[(storeFloors.length - 1) >> 1]!;
    baseline = { ...result, median: medianOf(result.runs as unknown as Record<string, number>[]) as unknown as BaselineRun, disk, medianDisk, diskBefore: diskBefore!, floors, storeFloors, storeFloor };
  }
  // The native listener's: what the agents and the dispatch part's submitters talk to.
  const ceiling = baseline?.floors.find((f) => f.transport === 'grpc-js')?.ceiling ?? null;

  const gigafactoryMsgsPerSec = peak ? peak.messages.perJob * peak.jobsPerSec : Number.NaN;
  const ratios = !peak
    ? null
    : baseline
    ? {
        gigafactoryMsgsPerSec,
        vsPingPong: gigafactoryMsgsPerSec / baseline.median.pingPongMsgsPerSec,
        vsOneWay: gigafactoryMsgsPerSec / baseline.median.oneWayMsgsPerSec,
        pacedOfferP50VsRoundTrip: paced ? (paced.submitToOffer.p50 * 1000) / baseline.median.roundTripUs : null,
        storeCommitsPerSec: peak.store.writeTxPerJob * peak.jobsPerSec,
        vsDiskCommits: (peak.store.writeTxPerJob * peak.jobsPerSec) / baseline.medianDisk.commitsPerSec,
        /** Peak jobs/s ÷ the transport ceiling (one SubmitJob per job); the batched run ÷ the batched ceiling. */
        peakOfTransportCeiling: ceiling ? peak.jobsPerSec / ceiling.jobsPerSec : null,
        batchedOfTransportCeiling: ceiling && batched ? batched.jobsPerSec / ceiling.batchJobsPerSec : null,
      }
    : { gigafactoryMsgsPerSec };

  // Fleet size: many idle streams on one coordinator.
  const fleet = runs('fleet', o.fleet)
    ? await guarded('fleet', () => runFleet({ streams: o.fleetStreams ?? (o.quick ? 2_000 : 10_000), processes: o.fleetProcesses ?? (o.quick ? 2 : 4), perConnection: o.fleetPerConnection, seconds: o.fleetSeconds ?? (o.quick ? 10 : 30) }))
    : null;
  // Recovery: a killed agent and a silent factory, to the job's next offer.
  const recovery = runs('recovery', o.recovery) ? await guarded('recovery', () => runRecovery({ breakRuns: o.recoveryRuns ?? (o.quick ? 1 : 5), ttlRuns: o.recoveryRuns ?? (o.quick ? 1 : 5) })) : null;
  // Log latency: a printed line to a TailLogs follower.
  const logs = runs('logs', o.logs) ? await guarded('logs', () => runLogs({ lines: o.logLines ?? (o.quick ? 200 : 500), intervalMs: 20 })) : null;

  // 4. The scheduler's cost per decision as the queue and the fleet grow (pure, in this process).
  const scheduler = runs('scheduler', o.scheduler) ? runSchedulerBench([100, 1_000, 10_000], [10, 100, 1_000, 10_000], o.quick ? 0.3 : 1) : null;
  // 5. Scale-out: 1, 2 and 3 replicas over the Cosmos test server.
  const replicas = runs('replicas', o.replicas) ? await runReplicaBench(o.quick ? { jobs: 150, maxSubmitSeconds: 2, pickupSamples: 3 } : {}) : null;
  // 6. The packaged agent's start-up beside Node's own and the tsx start.
  const agentStart = runs('agent-start', o.agentStart) ? await guarded('agent-start', () => runAgentStart({ rounds: o.agentStartRounds ?? (o.quick ? 5 : 15) })) : null;
  // 7. The CLI's start-up, compiled and through tsx.
  const cliStart = runs('cli-start', o.cliStart) ? await guarded('cli-start', () => runCliStart({ rounds: o.cliStartRounds ?? (o.quick ? 5 : 15) })) : null;
  // 8. Artifact bytes: a blob through each blob store beside cp.
  const artifacts = runs('artifacts', o.artifacts) ? await guarded('artifacts', () => runArtifactsBench({ megabytes: o.artifactMb ?? (o.quick ? 20 : 100), chunkKiB: o.artifactChunkKib })) : null;
  const machine = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    /** 1-minute load average before and after (every part included): other work on the machine skews every figure. */
    loadAverage: { atStart: loadAtStart, atEnd: loadavg()[0]! },
  };
  const git = gitInfo();
  const record = {
    startedAt: startedAt.toISOString(),
    git,
    machine,
    config: { parts: o.only ?? PARTS, jobs, maxSubmitSeconds, warmupJobs, factories: o.factories, slots: o.slots, submitters: o.submitters, runs: o.runs, pacedFraction: o.pacedFraction, pacedSeconds, batch: o.batched ? o.batch : null, baselineRuns: o.baselineRuns, baselineSeconds, synchronous: o.synchronous, quick: Boolean(o.quick) },
    peak,
    peakRuns: peaks,
    paced,
    batched,
    bullmq,
    baseline,
    fleet,
    recovery,
    logs,
    failures,
    ratios,
    scheduler,
    replicas,
    agentStart,
    cliStart,
    artifacts,
  };
  mkdirSync(o.out, { recursive: true });
  const file = join(o.out, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);

  process.stdout.write(`${renderTable(title(jobs, o, machine, git), [...rows(peak, peaks, paced, baseline, o), ...(batched ? batchedRows(batched, o) : []), ...bullmqRows(bullmq, peak?.jobsPerSec ?? null), ...(baseline?.floors ?? []).flatMap((floor) => transportFloorRows(floor, peak, batched, bullmq)), ...fleetRows(fleet), ...recoveryRows(recovery), ...logsRows(logs), ...schedulerRows(scheduler), ...replicaBenchRows(replicas ?? []), ...agentStartRows(agentStart), ...cliStartRows(cliStart), ...artifactsRows(artifacts), ...targetRows(peak, batched, bullmq, fleet, logs, ceiling), ...issue16Rows(peak, paced, batched, bullmq, fleet, ceiling, baseline?.storeFloor ?? null), ...failureRows(failures)])}\n`);
  process.stdout.write(`JSON: ${relative(process.cwd(), file)}\n`);
}

function title(jobs: number, o: Options, machine: { node: string; cpus: number; cpuModel: string; loadAverage: { atStart: number; atEnd: number } }, git: { rev: string; dirty: boolean }): string {
  return [
    `Gigafactory dispatch benchmark${o.quick ? ' (quick)' : ''} — ${jobs.toLocaleString('en-US')} jobs, ${o.factories} factories × ${o.slots} slots, ${o.submitters} submitters`,
    `SQLite WAL synchronous=${o.synchronous.toUpperCase()}${o.synchronous === 'full' ? '' : ' (NOT the product setting)'} · node ${machine.node} · ${machine.cpus} CPUs (${machine.cpuModel.trim()}), load average ${fmt(machine.loadAverage.atStart)} → ${fmt(machine.loadAverage.atEnd)} · git ${git.rev}${git.dirty ? ' (dirty)' : ''}`,
  ].join('\n');
}

/** Parts that threw: the table says so and the other parts still run (each cleans up after itself). */
const failures: { part: Part; message: string }[] = [];

async function guarded<T>(part: Part, run: () => Promise<T>): Promise<T | null> {
  try {
    return await run();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    progressDone();
    progress(`[${part}] failed: ${message}`);
    progressDone();
    failures.push({ part, message });
    return null;
  }
}

function failureRows(list: readonly { part: Part; message: string }[]): Row[] {
  return list.length ? [{ section: 'Parts that failed (no figures)' }, ...list.map((f): Row => [f.part, 'failed', '', f.message.split('\n')[0]!])] : [];
}

/** Issue #9's targets side by side: what this run reached, and where Gigafactory loses. */
function targetRows(peak: DispatchResult | null, batched: DispatchResult | null, bullmq: BullmqComparison | null, fleet: FleetResult | null, logs: LogsResult | null, ceiling: TransportCeiling | null): Row[] {
  const r: Row[] = [];
  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  // Next to a missed jobs/s target: whether connect-node itself allows it here (the Connect floor).
  const transport = (ok: boolean, ceilingJobsPerSec: number | undefined, target: number, how: string): string => (ok || ceilingJobsPerSec === undefined ? '' : `; ${ceilingNote(ceilingJobsPerSec, target, how)}`);
  if (fleet) {
    // A smaller fleet (--quick) cannot meet or miss a target set for 10,000 streams.
    const full = fleet.streams >= 10_000;
    const scale = full ? '' : ` with only ${fleet.streams.toLocaleString('en-US')} streams: the target is for 10,000`;
    r.push(['10,000 streams under 1 GiB RSS', full ? verdict(fleet.coordinator.peakRssMb < 1024) : 'n/a', '', `peak RSS ${fmt(fleet.coordinator.peakRssMb)} MiB${scale}`]);
    r.push(['heartbeat ack p99 < 100 ms', full ? verdict(fleet.heartbeatAck.p99 < 100) : 'n/a', '', `p99 ${fmt(fleet.heartbeatAck.p99)} ms${scale}`]);
  }
  if (logs) r.push(['log line to follower p99 < 250 ms', verdict(logs.lineToFollower.p99 < 250), '', `p99 ${fmt(logs.lineToFollower.p99)} ms`]);
  if (peak && bullmq && 'skipped' in bullmq) r.push(['jobs/s ≥ BullMQ', 'n/a', '', bullmq.skipped]);
  if (peak && bullmq && 'runs' in bullmq) {
    for (const run of bullmq.runs) {
      const ok = peak.jobsPerSec >= run.jobsPerSec;
      r.push([`jobs/s ≥ ${run.label}`, verdict(ok), '', `${versus(peak, run)}${transport(ok, ceiling?.jobsPerSec, run.jobsPerSec, 'one SubmitJob per job')}`]);
    }
    // Batch against batch: SubmitJobs ×n beside addBulk ×n.
    for (const run of bullmq.runs.filter((x) => x.mode === 'addBulk')) {
      const ok = batched !== null && batched.jobsPerSec >= run.jobsPerSec;
      if (batched) r.push([`SubmitJobs ×${batched.batch} jobs/s ≥ ${run.label}`, verdict(ok), '', `${versus(batched, run)}${transport(ok, ceiling?.batchJobsPerSec, run.jobsPerSec, `with SubmitJobs ×${batched.batch}`)}`]);
    }
  }
  const best = [peak, batched].filter((x): x is DispatchResult => x !== null).sort((a, b) => b.jobsPerSec - a.jobsPerSec)[0];
  if (best) {
    const ok = best.jobsPerSec >= 5_000;
    // Judged on the better way of submitting, so the ceiling of each way that ran.
    const ceilings = (peak ? transport(ok, ceiling?.jobsPerSec, 5_000, 'one SubmitJob per job') : '') + (batched ? transport(ok, ceiling?.batchJobsPerSec, 5_000, `with SubmitJobs ×${batched.batch}`) : '');
    r.push(['jobs/s ≥ 5,000', verdict(ok), '', `${fmt(best.jobsPerSec)} jobs/s (${best.batch ? `SubmitJobs ×${best.batch}` : 'SubmitJob'})${ceilings}`]);
  }
  return r.length ? [{ section: 'Targets (issue #9)' }, ...r] : [];
}

/**
 * Issue #16's targets (the coordinator on the grpc-js listener). Next to the CPU target: the floors
 * measured in this run, the transport's (one call and four stream messages with handlers that do
 * nothing) and the store's (a job's four writes with nothing else running). When their sum alone is
 * above the target, no work above them can reach it on this stack and machine.
 */
function issue16Rows(peak: DispatchResult | null, paced: DispatchResult | null, batched: DispatchResult | null, bullmq: BullmqComparison | null, fleet: FleetResult | null, ceiling: TransportCeiling | null, storeFloor: StoreFloorRun | null): Row[] {
  const r: Row[] = [];
  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  if (peak) {
    const cpu = peak.coordinator.cpuMsPerJob;
    let floors = '';
    if (ceiling && storeFloor) {
      const sum = ceiling.cpuMsPerJob + storeFloor.cpuMsPerJob;
      floors = `; floors in this run: grpc-js ${fmt(ceiling.cpuMsPerJob)} (1 call + ${MESSAGES_PER_JOB} messages) + store ${fmt(storeFloor.cpuMsPerJob)} = ${fmt(sum)} ms${sum > 0.5 ? ', above the target before any coordinator work' : ''}; the rest, ${fmt(Math.max(0, cpu - sum))} ms, is the coordinator's own (--cpu-prof says where)`;
    }
    r.push(['coordinator CPU ≤ 0.5 ms per job (one SubmitJob each)', verdict(cpu <= 0.5), '', `${fmt(cpu)} ms${floors}`]);
    const rateNote = peak.jobsPerSec < 1_000 ? `n/a` : paced && paced.targetRate !== null && paced.targetRate >= 1_000 ? verdict(paced.submitToOffer.p50 <= 1 && paced.submitToOffer.p99 <= 5) : 'n/a';
    const at = paced ? `at ${fmt(paced.targetRate ?? 0)} jobs/s open loop: p50 ${fmt(paced.submitToOffer.p50)}, p99 ${fmt(paced.submitToOffer.p99)} ms` : 'no paced run';
    r.push(['submit → offer p50 ≤ 1 ms, p99 ≤ 5 ms at 1,000 jobs/s', rateNote, '', peak.jobsPerSec < 1_000 ? `the peak here is ${fmt(peak.jobsPerSec)} jobs/s, below the rate the target is set at; ${at}` : at]);
  }
  if (batched) {
    const addBulk = bullmq && 'runs' in bullmq ? bullmq.runs.filter((x) => x.mode === 'addBulk') : [];
    const halfOf = addBulk.length ? Math.max(...addBulk.map((x) => x.jobsPerSec)) / 2 : null;
    const ok = batched.jobsPerSec >= 5_000 && (halfOf === null || batched.jobsPerSec >= halfOf);
    r.push([`SubmitJobs ×${batched.batch} ≥ 5,000 jobs/s and ≥ ½ addBulk`, verdict(ok), '', `${fmt(batched.jobsPerSec)} jobs/s; ${halfOf === null ? 'BullMQ not run' : `half of addBulk ${fmt(halfOf)}`}; ${fmt(batched.coordinator.cpuMsPerJob)} ms CPU per job`]);
  }
  if (fleet) {
    const full = fleet.streams >= 10_000;
    const scale = full ? '' : ` with only ${fleet.streams.toLocaleString('en-US')} streams: the target is for 10,000`;
    r.push(['10,000 idle streams: RSS < 512 MiB', full ? verdict(fleet.coordinator.peakRssMb < 512) : 'n/a', '', `peak RSS ${fmt(fleet.coordinator.peakRssMb)} MiB${scale}`]);
    r.push(['… heartbeat → ack p99 < 100 ms, max < 250 ms', full ? verdict(fleet.heartbeatAck.p99 < 100 && fleet.heartbeatAck.max < 250) : 'n/a', '', `p99 ${fmt(fleet.heartbeatAck.p99)}, max ${fmt(fleet.heartbeatAck.max)} ms${scale}`]);
  }
  return r.length ? [{ section: 'Targets (issue #16: the coordinator on grpc-js)' }, ...r] : [];
}

function versus(ours: DispatchResult, run: { jobsPerSec: number }): string {
  const wins = ours.jobsPerSec >= run.jobsPerSec;
  return `${fmt(ours.jobsPerSec)} vs ${fmt(run.jobsPerSec)} jobs/s: Gigafactory ${wins ? 'wins' : `LOSES (${fmt(run.jobsPerSec / ours.jobsPerSec)}× slower)`}`;
}

/**
 * With --cpu-prof: the coordinator's CPU per job by where it went (bench/cpu-breakdown.ts), from a
 * profile of the measured phase only. The profiler itself costs a few per cent, so these rows come
 * from a run whose other figures are slightly worse than an unprofiled one.
 */
function cpuCategoryRows(run: DispatchResult): Row[] {
  const categories = run.coordinator.cpuPerJobByCategory;
  if (!categories) return [];
  const total = categories.reduce((sum, c) => sum + c.msPerJob, 0);
  return categories.map((c): Row => [`  CPU in ${c.category}`, fmt(c.msPerJob), 'ms/job', `${fmt((100 * c.msPerJob) / total)}% of the profiled CPU (${fmt(total)} ms/job in all)`]);
}

/** The batched peak run: the figures that differ from one SubmitJob per job. */
function batchedRows(b: DispatchResult, o: Options): Row[] {
  const cap = b.capped ? ` (of ${b.jobsRequested.toLocaleString('en-US')}: submitting stopped at the cap)` : '';
  return [
    { section: `Dispatch at peak, SubmitJobs ×${b.batch} — closed loop, ${o.submitters} submitters each sending its next ${b.batch} jobs in one call when the last call returned (as BullMQ's addBulk run)` },
    ['throughput', fmt(b.jobsPerSec), 'jobs/s', `${b.jobs.toLocaleString('en-US')} jobs${cap}, first submit → last result ack in ${fmt(b.elapsedS)} s`],
    ['SubmitJobs call  p50 / p90 / p99 / max', fmtLatency(b.submitRpc), 'ms', `${b.batch} jobs per call; returns once all are durable`],
    ['submit → offer  p50 / p90 / p99 / max', fmtLatency(b.submitToOffer), 'ms', 'call sent → LeaseOffer read by the factory, per job (queueing included)'],
    ['submit → result ack  p50 / p90 / p99 / max', fmtLatency(b.submitToAck), 'ms', 'call sent → ResultAck read by the factory, per job'],
    ['coordinator CPU', fmt(b.coordinator.cores), 'cores', `${fmt(b.coordinator.cpuMsPerJob)} ms CPU per job; bench process ${fmt(b.bench.cores)} cores`],
    ...cpuCategoryRows(b),
    ['store write transactions', fmt(b.store.writeTxPerJob), 'per job', `${fmt(b.store.writeOpsPerJob / b.store.writeTxPerJob)} write operations per commit, at most ${b.store.largestBatch}; WAL fsync ${fmt(b.store.syncMsPerCommit)} ms per commit`],
    ['stream messages', fmt(b.messages.perJob), 'per job', 'both directions, as above'],
  ];
}

function perKind(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');
}

function schedulerRows(cells: SchedulerCell[] | null): Row[] {
  if (!cells) return [];
  return [
    { section: 'Scheduler — planDispatch per decision (one placement), over the page a pass examines (8 × free slots, at most 1,000 jobs); 1 free slot per factory' },
    ...cells.map(
      (c): Row => [
        `${c.queued.toLocaleString('en-US')} queued × ${c.factories.toLocaleString('en-US')} factories`,
        `${fmt(c.decisionsPerSecond)} /s · p99 ${fmt(c.decisionMs.p99 * 1000)} µs`,
        'decisions',
        `${c.examined.toLocaleString('en-US')} jobs examined per pass; p50 ${fmt(c.decisionMs.p50 * 1000)} µs`,
      ],
    ),
  ];
}

type Baseline = BaselineResult & { median: BaselineRun; disk: CommitRun[]; medianDisk: CommitRun; diskBefore: CommitRun; floors: TransportFloorResult[]; storeFloors: StoreFloorRun[]; storeFloor: StoreFloorRun };

function rows(peak: DispatchResult | null, peaks: DispatchResult[], paced: DispatchResult | null, baseline: Baseline | null, o: Options): Row[] {
  return [...(peak ? dispatchRows(peak, peaks, paced, o) : []), ...(baseline ? baselineRows(baseline, peak, paced, o) : [])];
}

function dispatchRows(peak: DispatchResult, peaks: DispatchResult[], paced: DispatchResult | null, o: Options): Row[] {
  const r: Row[] = [];
  const runsNote = peaks.length > 1 ? ` (median of ${peaks.length} runs: ${peaks.map((p) => fmt(p.jobsPerSec)).join(', ')})` : '';
  const msgs = { ...peak.messages.toFactories, ...peak.messages.fromFactories };
  r.push({ section: `Dispatch at peak — closed loop, ${o.submitters} submitters each sending its next job when the last was stored${runsNote}` });
  const cap = peak.capped ? ` (of ${peak.jobsRequested.toLocaleString('en-US')}: submitting stopped at the ${o.maxSeconds ?? (o.quick ? 40 : 120)} s cap)` : '';
  r.push(['throughput', fmt(peak.jobsPerSec), 'jobs/s', `${peak.jobs.toLocaleString('en-US')} jobs${cap}, first submit → last result ack in ${fmt(peak.elapsedS)} s`]);
  r.push(['submit RPC  p50 / p90 / p99 / max', fmtLatency(peak.submitRpc), 'ms', 'SubmitJob call (returns once the job is durable)']);
  r.push(['submit → offer  p50 / p90 / p99 / max', fmtLatency(peak.submitToOffer), 'ms', 'submit sent → LeaseOffer read by the factory (queueing included)']);
  r.push(['submit → result ack  p50 / p90 / p99 / max', fmtLatency(peak.submitToAck), 'ms', 'submit sent → ResultAck read by the factory']);
  r.push(['coordinator CPU', fmt(peak.coordinator.cores), 'cores', `${fmt(peak.coordinator.userS)} s user + ${fmt(peak.coordinator.sysS)} s sys over ${fmt(peak.elapsedS)} s; ${fmt(peak.coordinator.cpuMsPerJob)} ms CPU per job`]);
  r.push(...cpuCategoryRows(peak));
  r.push(['coordinator peak RSS', fmt(peak.coordinator.peakRssMb), 'MiB', `maxRSS of the child process (RSS at the end ${fmt(peak.coordinator.rssEndMb)} MiB)`]);
  r.push(['bench process CPU', fmt(peak.bench.cores), 'cores', `${peak.factories} factory streams + submitters, same machine`]);
  r.push(['store write transactions', fmt(peak.store.writeTxPerJob), 'per job', `commits counted by the SQLite store; they carried ${fmt(peak.store.writeOpsPerJob)} write operations per job (${perKind(peak.store.writeOpsByKindPerJob)}), ${fmt(peak.store.writeOpsPerJob / peak.store.writeTxPerJob)} per commit, at most ${peak.store.largestBatch}; ${peak.store.rolledBack} rolled back`]);
  r.push(['store time in writes', fmt(peak.store.writeMsPerJob), 'ms/job', `the coordinator's thread running group commits (${fmt(peak.store.writeMsPerJob / peak.store.writeTxPerJob)} ms per transaction), ${fmt(100 * peak.store.writeBusy)}% of the wall time; then each commit's WAL fsync, off the thread, took ${fmt(peak.store.syncMsPerCommit)} ms`]);
  r.push(['coordinator event-loop delay  p50 / p99 / max', fmtDelay(peak.coordinator.loopDelay), 'ms', 'how late its timers fired (10 ms sampling, less the period): how long ready work waited for its thread (garbage collection, SQLite checkpoints inside commits, a busy machine)']);
  r.push(['store reads', fmt(peak.store.readsPerJob), 'per job', `${perKind(peak.store.readsByMethodPerJob)}; ${fmt(peak.store.readMsPerJob)} ms/job`]);
  r.push(['event rows', fmt(peak.file.eventsPerJob), 'per job', `rows in the SQLite file after the run: ${fmt(peak.file.events, 0)} events, ${peak.file.logs} log chunks, ${fmt(peak.file.jobs, 0)} jobs (warm-up included)`]);
  r.push(['stream messages', fmt(peak.messages.perJob), 'per job', `both directions: ${perKind(Object.fromEntries(Object.entries(msgs).map(([k, v]) => [k, v / peak.jobs])))}`]);
  r.push(['LeaseOffer message', fmt(peak.offerBytes, 0), 'bytes', `encoded ConnectResponse as the factories received it (mean); built with create() from the same fields: ${sampleLeaseOffer().byteLength}`]);
  if (peak.leaseRevocations > 0) r.push(['lease revocations', String(peak.leaseRevocations), 'total', 'should be 0: every offer is accepted at once']);

  if (paced) {
    r.push({ section: `Dispatch at ${Math.round(o.pacedFraction * 100)}% of peak — open loop, one job due every ${fmt(1000 / paced.targetRate!)} ms, latency counted from when each job was due` });
    r.push(['offered rate', fmt(paced.targetRate!), 'jobs/s', `${paced.jobs.toLocaleString('en-US')} jobs; submissions achieved ${fmt(paced.submitRate)} jobs/s`]);
    r.push(['throughput', fmt(paced.jobsPerSec), 'jobs/s', `first due → last result ack in ${fmt(paced.elapsedS)} s`]);
    r.push(['submit → offer  p50 / p99', fmtLatency(paced.submitToOffer, ['p50', 'p99']), 'ms', `p90 ${fmt(paced.submitToOffer.p90)}, max ${fmt(paced.submitToOffer.max)}`]);
    r.push(['submit → result ack  p50 / p99', fmtLatency(paced.submitToAck, ['p50', 'p99']), 'ms', `p90 ${fmt(paced.submitToAck.p90)}, max ${fmt(paced.submitToAck.max)}`]);
    r.push(['submit RPC  p50 / p99', fmtLatency(paced.submitRpc, ['p50', 'p99']), 'ms', 'from when the job was due to the SubmitJob answer']);
    r.push(['coordinator CPU', fmt(paced.coordinator.cores), 'cores', `${fmt(paced.coordinator.cpuMsPerJob)} ms CPU per job; peak RSS ${fmt(paced.coordinator.peakRssMb)} MiB`]);
    r.push(['coordinator event-loop delay  p50 / p99 / max', fmtDelay(paced.coordinator.loopDelay), 'ms', 'as above']);
  }

  return r;
}

function baselineRows(baseline: Baseline, peak: DispatchResult | null, paced: DispatchResult | null, o: Options): Row[] {
  const r: Row[] = [];
  const b = baseline.median;
  const spread = (f: (run: BaselineRun) => number): string => `runs: ${baseline.runs.map((x) => fmt(f(x))).join(', ')}`;
  r.push({ section: `Physical baselines — one grpc-js bidi stream over loopback h2c with ${baseline.messageBytes}-byte messages (${baseline.messageSource === 'received' ? 'a LeaseOffer received in the peak run' : 'a LeaseOffer built with create()'}) as raw bytes, and this disk; median of ${baseline.runs.length} × ${baseline.secondsPerMode} s` });
  r.push(['ping-pong', fmt(b.pingPongMsgsPerSec), 'msgs/s', `both directions; round trip ${fmt(b.roundTripUs)} µs; ${spread((x) => x.pingPongMsgsPerSec)}`]);
  r.push(['one-way (server → client)', fmt(b.oneWayMsgsPerSec), 'msgs/s', `flow-controlled, flat out; ${spread((x) => x.oneWayMsgsPerSec)}`]);
  const d = baseline.medianDisk;
  r.push(['SQLite commits, one at a time', fmt(d.commitsPerSec), 'commits/s', `WAL, synchronous=${o.synchronous.toUpperCase()}, one 1 KB row each; commit mean ${fmt(d.latency.mean)}, p50 / p99 / max ${fmtLatency(d.latency, ['p50', 'p99', 'max'])} ms; runs: ${baseline.disk.map((x) => fmt(x.commitsPerSec)).join(', ')}`]);
  const before = baseline.diskBefore;
  const drift = Math.max(before.commitsPerSec / d.commitsPerSec, d.commitsPerSec / before.commitsPerSec);
  const driftNote = drift > 1.5 ? `; ${fmt(drift)}× off the runs after: the disk was not equally free during the benchmark` : '';
  r.push(['… the same, before the dispatch runs', fmt(before.commitsPerSec), 'commits/s', `one run; commit mean ${fmt(before.latency.mean)}, p99 ${fmt(before.latency.p99)} ms${driftNote}`]);
  const sf = baseline.storeFloor;
  r.push(['store floor: a job\'s four writes', fmt(sf.cpuMsPerJob), 'ms CPU/job', `the real SQLite store as the product opens it (group commit, WAL fsync off the thread), insert + 3 replaces with their events built by the domain's lifecycle, ${sf.concurrency} jobs in flight, no transport; ${fmt(sf.jobsPerSec)} jobs/s; runs: ${baseline.storeFloors.map((x) => fmt(x.cpuMsPerJob)).join(', ')} ms`]);
  if (peak) {
    const gf = peak.messages.perJob * peak.jobsPerSec;
    r.push({ section: 'Ratios' });
    r.push(['Gigafactory stream message rate', fmt(gf), 'msgs/s', `${fmt(peak.messages.perJob)} messages per job × ${fmt(peak.jobsPerSec)} jobs/s, over ${peak.factories} streams`]);
    r.push(['… of one stream ping-pong', fmt((100 * gf) / b.pingPongMsgsPerSec), '%', `baseline ${fmt(b.pingPongMsgsPerSec)} msgs/s`]);
    r.push(['… of one stream one-way', fmt((100 * gf) / b.oneWayMsgsPerSec), '%', `baseline ${fmt(b.oneWayMsgsPerSec)} msgs/s`]);
    const commits = peak.store.writeTxPerJob * peak.jobsPerSec;
    r.push(['Gigafactory store commits', fmt(commits), 'commits/s', `${fmt(peak.store.writeTxPerJob)} write transactions per job × ${fmt(peak.jobsPerSec)} jobs/s`]);
    r.push(['… of the disk\'s commit rate', fmt((100 * commits) / d.commitsPerSec), '%', `baseline ${fmt(d.commitsPerSec)} one-row commits/s, measured after the dispatch runs; a coordinator commit also writes indexes and an event row`]);
    if (paced) {
      r.push(['half-rate submit → offer p50 ÷ round trip', fmt((paced.submitToOffer.p50 * 1000) / b.roundTripUs), '×', `${fmt(paced.submitToOffer.p50)} ms vs ${fmt(b.roundTripUs)} µs`]);
    }
  }
  return r;
}

function gitInfo(): { rev: string; dirty: boolean } {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: BENCH_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return { rev, dirty };
  } catch {
    return { rev: 'unknown', dirty: false };
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    progressDone();
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

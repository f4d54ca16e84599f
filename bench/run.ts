/**
 * `npm run bench`: dispatch at peak, dispatch at half the peak rate, and the physical gRPC baseline,
 * in one run. Prints one table on stdout, progress on stderr, and writes every figure as JSON to
 * bench/results/<timestamp>.json. See bench/README.md for what each figure means.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBaseline, runCommitBaseline, sampleLeaseOffer, type BaselineResult, type BaselineRun, type CommitRun } from './baseline.js';
import type { Synchronous } from './coordinator-child.js';
import { runDispatch, type DispatchResult } from './dispatch.js';
import { fmt, fmtLatency, medianOf, progress, progressDone, renderTable, type Row } from './stats.js';
import { runSchedulerBench, type SchedulerCell } from './scheduler.js';
import { replicaBenchRows, runReplicaBench } from './replicas.js';

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
  paced: boolean;
  baseline: boolean;
  scheduler: boolean;
  replicas: boolean;
  out: string;
}

const program = new Command('bench')
  .description('Gigafactory dispatch benchmark: peak, half-peak latency, and the raw gRPC stream baseline')
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
  .addOption(new Option('--synchronous <mode>', 'SQLite commit durability in the coordinator: full is the product setting (fsync per commit)').choices(['full', 'normal', 'off']).default('full'))
  .option('--no-paced', 'skip the half-rate run')
  .option('--no-baseline', 'skip the gRPC baseline')
  .option('--no-scheduler', 'skip the scheduler decision-cost grid')
  .option('--no-replicas', 'skip the Cosmos replica runs (1, 2 and 3 replicas over the Cosmos test server)')
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

  // The disk before anything else runs: with the probe after the runs, it shows whether the disk
  // changed under the benchmark (other work on the machine).
  let diskBefore: CommitRun | null = null;
  if (o.baseline) {
    progress(`[baseline] disk before the dispatch runs: SQLite commits for ${baselineSeconds} s`);
    diskBefore = runCommitBaseline({ seconds: baselineSeconds, synchronous: o.synchronous });
    progressDone();
  }

  // 1. Peak: closed loop.
  const peaks: DispatchResult[] = [];
  for (let i = 0; i < o.runs; i++) {
    peaks.push(await runDispatch({ ...common, label: o.runs > 1 ? `peak ${i + 1}/${o.runs}` : 'peak', jobs, maxSubmitSeconds }));
  }
  const peak = [...peaks].sort((a, b) => a.jobsPerSec - b.jobsPerSec)[(peaks.length - 1) >> 1]!;

  // 2. The same at a fraction of the peak rate: open loop.
  let paced: DispatchResult | null = null;
  if (o.paced) {
    const rate = peak.jobsPerSec * o.pacedFraction;
    const pacedJobs = Math.max(100, Math.round(rate * pacedSeconds));
    paced = await runDispatch({ ...common, label: `${Math.round(o.pacedFraction * 100)}% rate`, jobs: pacedJobs, rate });
  }

  // 3. The physical baseline.
  let baseline: Baseline | null = null;
  if (o.baseline) {
    const message = peak.offerSampleBase64 ? Buffer.from(peak.offerSampleBase64, 'base64') : null;
    const result = await runBaseline({ runs: o.baselineRuns, seconds: baselineSeconds, message, onProgress: progress });
    const disk: CommitRun[] = [];
    for (let i = 0; i < o.baselineRuns; i++) {
      progress(`[baseline] disk run ${i + 1}/${o.baselineRuns}: SQLite commits for ${baselineSeconds} s`);
      disk.push(runCommitBaseline({ seconds: baselineSeconds, synchronous: o.synchronous }));
    }
    progressDone();
    const medianDisk = [...disk].sort((a, b) => a.commitsPerSec - b.commitsPerSec)[(disk.length - 1) >> 1]!;
    baseline = { ...result, median: medianOf(result.runs as unknown as Record<string, number>[]) as unknown as BaselineRun, disk, medianDisk, diskBefore: diskBefore! };
  }

  const gigafactoryMsgsPerSec = peak.messages.perJob * peak.jobsPerSec;
  const ratios = baseline
    ? {
        gigafactoryMsgsPerSec,
        vsPingPong: gigafactoryMsgsPerSec / baseline.median.pingPongMsgsPerSec,
        vsOneWay: gigafactoryMsgsPerSec / baseline.median.oneWayMsgsPerSec,
        pacedOfferP50VsRoundTrip: paced ? (paced.submitToOffer.p50 * 1000) / baseline.median.roundTripUs : null,
        storeCommitsPerSec: peak.store.writeTxPerJob * peak.jobsPerSec,
        vsDiskCommits: (peak.store.writeTxPerJob * peak.jobsPerSec) / baseline.medianDisk.commitsPerSec,
      }
    : { gigafactoryMsgsPerSec };

  const machine = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    /** 1-minute load average before and after: other work on the machine skews every figure. */
    loadAverage: { atStart: loadAtStart, atEnd: loadavg()[0]! },
  };
  // 4. The scheduler's cost per decision as the queue and the fleet grow (pure, in this process).
  const scheduler = o.scheduler ? runSchedulerBench([100, 1_000, 10_000], [10, 100, 1_000], o.quick ? 0.3 : 1) : null;
  // 5. Scale-out: 1, 2 and 3 replicas over the Cosmos test server.
  const replicas = o.replicas ? await runReplicaBench(o.quick ? { jobs: 150, maxSubmitSeconds: 2, pickupSamples: 3 } : {}) : null;
  const git = gitInfo();
  const record = {
    startedAt: startedAt.toISOString(),
    git,
    machine,
    config: { jobs, maxSubmitSeconds, warmupJobs, factories: o.factories, slots: o.slots, submitters: o.submitters, runs: o.runs, pacedFraction: o.pacedFraction, pacedSeconds, baselineRuns: o.baselineRuns, baselineSeconds, synchronous: o.synchronous, quick: Boolean(o.quick) },
    peak,
    peakRuns: peaks,
    paced,
    baseline,
    ratios,
    scheduler,
    replicas,
  };
  mkdirSync(o.out, { recursive: true });
  const file = join(o.out, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);

  process.stdout.write(`${renderTable(title(jobs, o, machine, git), [...rows(peak, peaks, paced, baseline, o), ...schedulerRows(scheduler), ...replicaBenchRows(replicas ?? [])])}\n`);
  process.stdout.write(`JSON: ${relative(process.cwd(), file)}\n`);
}

function title(jobs: number, o: Options, machine: { node: string; cpus: number; cpuModel: string; loadAverage: { atStart: number; atEnd: number } }, git: { rev: string; dirty: boolean }): string {
  return [
    `Gigafactory dispatch benchmark${o.quick ? ' (quick)' : ''} — ${jobs.toLocaleString('en-US')} jobs, ${o.factories} factories × ${o.slots} slots, ${o.submitters} submitters`,
    `SQLite WAL synchronous=${o.synchronous.toUpperCase()}${o.synchronous === 'full' ? '' : ' (NOT the product setting)'} · node ${machine.node} · ${machine.cpus} CPUs (${machine.cpuModel.trim()}), load average ${fmt(machine.loadAverage.atStart)} → ${fmt(machine.loadAverage.atEnd)} · git ${git.rev}${git.dirty ? ' (dirty)' : ''}`,
  ].join('\n');
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

type Baseline = BaselineResult & { median: BaselineRun; disk: CommitRun[]; medianDisk: CommitRun; diskBefore: CommitRun };

function rows(peak: DispatchResult, peaks: DispatchResult[], paced: DispatchResult | null, baseline: Baseline | null, o: Options): Row[] {
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
  r.push(['coordinator peak RSS', fmt(peak.coordinator.peakRssMb), 'MiB', `maxRSS of the child process (RSS at the end ${fmt(peak.coordinator.rssEndMb)} MiB)`]);
  r.push(['bench process CPU', fmt(peak.bench.cores), 'cores', `${peak.factories} factory streams + submitters, same machine`]);
  r.push(['store write transactions', fmt(peak.store.writeTxPerJob), 'per job', `committed, counted at the JobStore: ${perKind(peak.store.writeTxByKindPerJob)}; ${peak.store.rolledBack} rolled back`]);
  r.push(['store time in writes', fmt(peak.store.writeMsPerJob), 'ms/job', `inside SQLite write calls, commit fsync included (${fmt(peak.store.writeMsPerJob / peak.store.writeTxPerJob)} ms per transaction): the coordinator's thread was blocked in writes ${fmt(100 * peak.store.writeBusy)}% of the wall time`]);
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
  }

  if (baseline) {
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

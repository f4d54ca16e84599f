/**
 * The same workload on BullMQ, for comparison: a local redis-server (bench/redis-server.ts), M BullMQ
 * Workers in this process with the Gigafactory run's slots as their concurrency and a processor that
 * does nothing, and the same number of closed-loop submitters (one Queue, so one Redis connection,
 * each) calling `queue.add`. A second run adds the jobs with `addBulk` in batches, which is how BullMQ
 * is fastest, labelled as such. Workers and submitters live in the bench process, as the Gigafactory
 * factories and submitters do; Redis, like the coordinator, is a process of its own.
 *
 * Durability differs and the table says so: a Gigafactory submit returns after an fsync'd SQLite
 * commit; Redis with `appendfsync everysec` acknowledges before the fsync and can lose the last second
 * of acknowledged jobs on a crash; `appendfsync always` fsyncs every write, which is the comparable
 * setting.
 */
import { Queue, Worker, type Job } from 'bullmq';
import { performance } from 'node:perf_hooks';
import { findRedisServer, startRedisServer, type AppendFsync } from './redis-server.js';
import { cpuSeconds, fmt, fmtLatency, Latency, progress, progressDone, type LatencySummary, type Row } from './stats.js';

export interface BullmqOptions {
  label: string;
  jobs: number;
  warmupJobs: number;
  /** Worker instances (the Gigafactory run's factories). */
  workers: number;
  /** Concurrency of each worker (the Gigafactory run's slots per factory). */
  concurrency: number;
  submitters: number;
  /** Set: add jobs with addBulk in batches of this size instead of one `add` per job. */
  bulk?: number;
  appendfsync: AppendFsync;
  maxSubmitSeconds: number;
  stallTimeoutMs?: number;
}

export interface BullmqResult {
  label: string;
  appendfsync: AppendFsync;
  mode: 'add' | 'addBulk';
  bulk: number | null;
  redisVersion: string;
  jobsRequested: number;
  jobs: number;
  capped: boolean;
  workers: number;
  concurrency: number;
  submitters: number;
  elapsedS: number;
  jobsPerSec: number;
  addRpc: LatencySummary;
  enqueueToStart: LatencySummary;
  enqueueToCompleted: LatencySummary;
  redis: { cores: number; cpuS: number; rssEndMb: number };
  bench: { cores: number; cpuS: number };
}

const QUEUE = 'gigafactory-bench';

interface BenchData {
  /** Job number in the measured run; -1 for warm-up jobs. */
  n: number;
}

export async function runBullmq(binary: string, opts: BullmqOptions): Promise<BullmqResult> {
  const redis = await startRedisServer(binary, opts.appendfsync);
  const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null };
  const queues: Queue<BenchData>[] = [];
  const workers: Worker<BenchData>[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    const submittedAt = new Float64Array(opts.jobs);
    const started = new Uint8Array(opts.jobs);
    const toStart = new Latency();
    const toCompleted = new Latency();
    let done = 0;
    let warmDone = 0;
    let lastCompletedAt = 0;
    let wake: () => void = () => {};
    for (let i = 0; i < opts.submitters; i++) queues.push(new Queue<BenchData>(QUEUE, { connection }));
    for (let i = 0; i < opts.workers; i++) {
      const worker = new Worker<BenchData>(
        QUEUE,
        async (job: Job<BenchData>) => {
          const n = job.data.n;
          if (n >= 0 && !started[n]) {
            started[n] = 1;
            toStart.recordMs(performance.now() - submittedAt[n]!);
          }
        },
        { connection, concurrency: opts.concurrency },
      );
      worker.on('completed', (job: Job<BenchData>) => {
        const n = job.data.n;
        if (n < 0) warmDone++;
        else {
          const now = performance.now();
          toCompleted.recordMs(now - submittedAt[n]!);
          done++;
          lastCompletedAt = now;
        }
        wake();
      });
      worker.on('error', () => {}); // a lost connection shows as a stall, which fails the run
      workers.push(worker);
    }
    await Promise.all([...queues.map((q) => q.waitUntilReady()), ...workers.map((w) => w.waitUntilReady())]);

    const stallTimeoutMs = opts.stallTimeoutMs ?? 30_000;
    const until = (cond: () => boolean, what: string): Promise<void> =>
      new Promise((resolve, reject) => {
        let last = -1;
        let lastChange = performance.now();
        const watchdog = setInterval(() => {
          if (done + warmDone !== last) {
            last = done + warmDone;
            lastChange = performance.now();
          } else if (performance.now() - lastChange > stallTimeoutMs) {
            clearInterval(watchdog);
            reject(new Error(`${opts.label}: no job completed for ${stallTimeoutMs} ms while waiting for ${what} (done ${done}, warm-up ${warmDone})`));
          }
        }, 500);
        wake = () => {
          if (!cond()) return;
          clearInterval(watchdog);
          wake = () => {};
          resolve();
        };
        wake();
      });

    // The submit loop is shared by warm-up and measurement: each submitter adds its next job (or
    // batch) as soon as Redis answered for the last one.
    const batch = opts.bulk ?? 1;
    const submit = async (count: number, n: (i: number) => number, onSubmit: (i: number, at: number) => void, rpc: Latency | null, deadline: number): Promise<number> => {
      let next = 0;
      await Promise.all(
        queues.map(async (queue) => {
          while (next < count && performance.now() < deadline) {
            const first = next;
            next = Math.min(count, next + batch);
            const at = performance.now();
            for (let i = first; i < next; i++) onSubmit(i, at);
            if (opts.bulk === undefined) await queue.add('bench', { n: n(first) });
            else await queue.addBulk(Array.from({ length: next - first }, (_, k) => ({ name: 'bench', data: { n: n(first + k) } })));
            rpc?.recordMs(performance.now() - at);
          }
        }),
      );
      return next;
    };

    if (opts.warmupJobs > 0) {
      progress(`[${opts.label}] warm-up: ${opts.warmupJobs} jobs`);
      await submit(opts.warmupJobs, () => -1, () => {}, null, Infinity);
      await until(() => warmDone >= opts.warmupJobs, 'the warm-up jobs');
    }

    const rpc = new Latency();
    let target = opts.jobs;
    let submitted = 0;
    const redisCpuBefore = redis.cpuSeconds();
    const benchCpuBefore = process.cpuUsage();
    const t0 = performance.now();
    let lastDone = 0;
    timers.push(
      setInterval(() => {
        progress(`[${opts.label}] ${done}/${target} jobs done (${done - lastDone}/s), ${submitted} submitted`);
        lastDone = done;
      }, 1_000),
    );
    const allDone = until(() => done >= target, 'the measured jobs');
    target = await submit(
      opts.jobs,
      (i) => i,
      (i, at) => {
        submittedAt[i] = at;
        submitted++;
      },
      rpc,
      t0 + opts.maxSubmitSeconds * 1000,
    );
    wake();
    await allDone;
    const elapsedMs = lastCompletedAt - t0;
    const redisCpu = redis.cpuSeconds() - redisCpuBefore;
    const benchCpu = cpuSeconds(benchCpuBefore, process.cpuUsage());
    const rssEndMb = redis.rssMb();
    for (const timer of timers) clearInterval(timer);
    progress(`[${opts.label}] ${done}/${target} jobs done in ${fmt(elapsedMs / 1000)} s (${fmt((target * 1000) / elapsedMs)} jobs/s)`);
    progressDone();
    return {
      label: opts.label,
      appendfsync: opts.appendfsync,
      mode: opts.bulk === undefined ? 'add' : 'addBulk',
      bulk: opts.bulk ?? null,
      redisVersion: redis.version,
      jobsRequested: opts.jobs,
      jobs: target,
      capped: target < opts.jobs,
      workers: opts.workers,
      concurrency: opts.concurrency,
      submitters: opts.submitters,
      elapsedS: elapsedMs / 1000,
      jobsPerSec: (target * 1000) / elapsedMs,
      addRpc: rpc.summary(),
      enqueueToStart: toStart.summary(),
      enqueueToCompleted: toCompleted.summary(),
      redis: { cores: redisCpu / (elapsedMs / 1000), cpuS: redisCpu, rssEndMb },
      bench: { cores: benchCpu / (elapsedMs / 1000), cpuS: benchCpu },
    };
  } catch (err) {
    progressDone();
    throw err;
  } finally {
    for (const timer of timers) clearInterval(timer);
    await Promise.all(workers.map((w) => w.close(true).catch(() => {})));
    await Promise.all(queues.map((q) => q.close().catch(() => {})));
    await redis.stop();
  }
}

/** The comparison as a whole: the runs, or why there are none. */
export type BullmqComparison = { skipped: string } | { runs: BullmqResult[] };

/** Batch size of the addBulk run. */
const BULK = 100;

/**
 * Three runs on a fresh Redis each: `add` with appendfsync everysec (BullMQ's usual setup), `add`
 * with appendfsync always (durable like a Gigafactory submit), and addBulk with everysec (BullMQ at
 * its fastest). Skipped, with the reason, when redis-server is not installed.
 */
export async function runBullmqComparison(opts: Omit<BullmqOptions, 'label' | 'appendfsync' | 'bulk'>): Promise<BullmqComparison> {
  const binary = findRedisServer();
  if (!binary) return { skipped: 'skipped: redis-server not found (sudo apt-get install redis-server)' };
  const runs: BullmqResult[] = [];
  runs.push(await runBullmq(binary, { ...opts, label: 'bullmq add, everysec', appendfsync: 'everysec' }));
  runs.push(await runBullmq(binary, { ...opts, label: 'bullmq add, always', appendfsync: 'always' }));
  runs.push(await runBullmq(binary, { ...opts, label: `bullmq addBulk ×${BULK}, everysec`, appendfsync: 'everysec', bulk: BULK }));
  return { runs };
}

/** Table rows; `gigafactoryJobsPerSec` (the peak run, when it ran) gives the ratios. */
export function bullmqRows(comparison: BullmqComparison | null, gigafactoryJobsPerSec: number | null): Row[] {
  if (!comparison) return [];
  const heading = 'BullMQ, same workload — closed-loop submitters, Workers doing nothing (concurrency = slots), local redis-server with AOF; first add → last completed';
  if ('skipped' in comparison) return [{ section: heading }, ['BullMQ', 'n/a', '', comparison.skipped]];
  const first = comparison.runs[0]!;
  const r: Row[] = [{ section: `${heading}; Redis ${first.redisVersion}, ${first.workers} workers × ${first.concurrency}, ${first.submitters} submitters` }];
  for (const run of comparison.runs) {
    const how = run.mode === 'add' ? `queue.add one at a time` : `queue.addBulk, ${run.bulk} jobs per call`;
    const durability = run.appendfsync === 'always' ? 'every write fsync\'d before the answer (durable like a Gigafactory submit)' : 'NOT durable: an add is acknowledged before its fsync, a crash can lose the last second of jobs';
    const cap = run.capped ? ` (of ${run.jobsRequested.toLocaleString('en-US')}: submitting stopped at the cap)` : '';
    r.push([`${run.label}: throughput`, fmt(run.jobsPerSec), 'jobs/s', `${run.jobs.toLocaleString('en-US')} jobs${cap} in ${fmt(run.elapsedS)} s; ${how}; appendfsync ${run.appendfsync}: ${durability}`]);
    r.push([`… enqueue → start  p50 / p90 / p99 / max`, fmtLatency(run.enqueueToStart), 'ms', 'add sent → the processor called (queueing included)']);
    r.push([`… add call  p50 / p99`, fmtLatency(run.addRpc, ['p50', 'p99']), 'ms', `enqueue → completed p50 ${fmt(run.enqueueToCompleted.p50)} ms; Redis ${fmt(run.redis.cores)} cores, RSS ${fmt(run.redis.rssEndMb)} MiB; bench process ${fmt(run.bench.cores)} cores`]);
  }
  if (gigafactoryJobsPerSec !== null) {
    for (const run of comparison.runs) {
      const ratio = gigafactoryJobsPerSec / run.jobsPerSec;
      const verdict = ratio >= 1 ? 'Gigafactory is faster' : `Gigafactory LOSES: ${fmt(1 / ratio)}× slower`;
      r.push([`Gigafactory ÷ ${run.label}`, fmt(ratio), '×', `${fmt(gigafactoryJobsPerSec)} vs ${fmt(run.jobsPerSec)} jobs/s (target ≥ 1); ${verdict}`]);
    }
  }
  return r;
}

/**
 * Log latency: a real agent process (`gigafactory agent`) runs a job that prints a line every
 * `intervalMs`, each line carrying the wall-clock time at which it was printed (sub-millisecond:
 * performance.timeOrigin + performance.now()). A TailLogs follower (follow = true, native gRPC via
 * connect-node) started before the job ran reads the chunks and, for every complete line, records
 * arrival time − printed time. All processes share this machine's clock, so the difference is the
 * path: the child's pipe, the agent's LogBatcher (which holds output up to its flush interval to fill
 * a chunk), the stream to the coordinator, the store, and the follower's stream.
 *
 * A short job goes first, unmeasured, so JIT and connection setup are not in the figures.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LOG_FLUSH_INTERVAL_MS } from '../agent/log-batcher.js';
import { JobService } from '../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { spawnAgent } from '../test/support/processes.js';
import { spawnCoordinator } from './coordinator-child.js';
import { fmt, fmtLatency, Latency, progress, progressDone, type LatencySummary, type Row } from './stats.js';

export interface LogsOptions {
  lines: number;
  intervalMs: number;
}

export interface LogsResult {
  lines: number;
  intervalMs: number;
  flushIntervalMs: number;
  lineToFollower: LatencySummary;
  /** TailLogs responses (chunks) the follower read for the measured job. */
  chunks: number;
}

const MARK = 'gf-bench-line';

/** The job: `lines` lines, one every `intervalMs`, each "gf-bench-line <i> <epoch ms when printed>". */
function printerCommand(lines: number, intervalMs: number): string[] {
  const script = `let i = 0; const t = setInterval(() => { console.log('${MARK} ' + i + ' ' + (performance.timeOrigin + performance.now()).toFixed(3)); if (++i >= ${lines}) clearInterval(t); }, ${intervalMs});`;
  return [process.execPath, '-e', script];
}

/** Follows the job's log to its end, recording each marked line's delay; returns the chunks read. */
async function follow(jobs: Client<typeof JobService>, jobId: string, latency: Latency | null): Promise<number> {
  const decoder = new TextDecoder();
  let partial = '';
  let chunks = 0;
  for await (const res of jobs.tailLogs({ jobId, follow: true })) {
    const now = performance.timeOrigin + performance.now();
    chunks++;
    const text = partial + decoder.decode(res.chunk!.data, { stream: true });
    const lines = text.split('\n');
    partial = lines.pop()!; // a line split across chunks is complete only in the next one
    for (const line of lines) {
      if (!line.startsWith(MARK)) continue;
      latency?.recordMs(now - Number(line.split(' ')[2]));
    }
  }
  return chunks;
}

export async function runLogs(opts: LogsOptions): Promise<LogsResult> {
  const coordinator = await spawnCoordinator();
  const workDir = mkdtempSync(join(tmpdir(), 'gigafactory-bench-logs-'));
  const agent = await spawnAgent({ coordinator: coordinator.grpcAddress, id: 'bench-logs-agent', workDir }).catch((err: unknown) => {
    coordinator.kill();
    throw err;
  });
  try {
    const jobs = createClient(JobService, createGrpcTransport({ baseUrl: `http://${coordinator.grpcAddress}` }));
    progress('[logs] warm-up job');
    const warm = await jobs.submitJob({ productId: 'bench-logs', title: 'logs-warmup', command: printerCommand(20, opts.intervalMs) });
    await follow(jobs, warm.job!.id, null);

    progress(`[logs] ${opts.lines} lines, one every ${opts.intervalMs} ms, through a TailLogs follower`);
    const latency = new Latency();
    const { job } = await jobs.submitJob({ productId: 'bench-logs', title: 'logs-measured', command: printerCommand(opts.lines, opts.intervalMs) });
    const chunks = await follow(jobs, job!.id, latency);
    progressDone();
    if (latency.count !== opts.lines) throw new Error(`logs: the follower read ${latency.count} of ${opts.lines} lines`);
    return { lines: opts.lines, intervalMs: opts.intervalMs, flushIntervalMs: DEFAULT_LOG_FLUSH_INTERVAL_MS, lineToFollower: latency.summary(), chunks };
  } catch (err) {
    progressDone();
    throw err;
  } finally {
    await agent.kill('SIGKILL');
    await coordinator.stop().catch(() => coordinator.kill());
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Target from issue #9. */
const LOG_P99_TARGET_MS = 250;

export function logsRows(r: LogsResult | null): Row[] {
  if (!r) return [];
  const ok = r.lineToFollower.p99 < LOG_P99_TARGET_MS;
  return [
    { section: `Log latency — a job on a real agent prints a line every ${r.intervalMs} ms carrying the time it was printed; a TailLogs follower (follow) reads it` },
    ['line printed → follower  p50 / p90 / p99 / max', fmtLatency(r.lineToFollower), 'ms', `${r.lineToFollower.count} lines in ${r.chunks} chunks; the agent batches output for up to ${r.flushIntervalMs} ms (LogBatcher flush interval); target p99 < ${LOG_P99_TARGET_MS} ms: ${ok ? 'target met' : 'TARGET MISSED'}`],
    ['lines per chunk', fmt(r.lines / r.chunks), 'lines', `one chunk per flush: ${fmt(r.flushIntervalMs)} ms ÷ ${r.intervalMs} ms between lines`],
  ];
}

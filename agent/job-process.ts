/**
 * Runs one job attempt as a child process and reports how it ended, exactly once. The child leads
 * its own process group, so stopping a job stops everything it started (a shell's background jobs,
 * a build's compiler workers), not only the program we spawned.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { durationMs } from '@bufbuild/protobuf/wkt';
import type { LeaseOffer } from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import type { AttemptReport } from '../src/domain/lifecycle.js';
import { sumCostLines } from './cost-meter.js';
import { makePassThroughDir, makePrivateDir } from '../src/private-files.js';
import { jobEnvironment } from './job-environment.js';
import { checkpointDirOf } from './checkpoints.js';

/** What the agent needs to run one attempt; the wire form is a LeaseOffer. */
export interface JobRunSpec {
  jobId: string;
  epoch: bigint;
  /** argv: `command[0]` is the program, run without a shell. */
  command: readonly string[];
  /** The job's own variables (see job-environment.ts for what else it sees). */
  env: Readonly<Record<string, string>>;
  /** Wall-clock limit for the attempt; 0 means none. */
  timeoutMs: number;
  /** The attempt's signed lease token (LeaseService); absent or '' from a coordinator too old to send one. */
  leaseToken?: string;
  /** The most the attempt may cost (0 or absent: no ceiling); the cost meter warns the job near it. */
  costCeiling?: number;
}

/** Another user a job runs as (the agent must be root to switch to it). */
export interface RunAsUser {
  name: string;
  uid: number;
  gid: number;
}

export interface StartJobOptions {
  /** The agent's work directory; each attempt gets `<workDir>/jobs/<jobId>-<epoch>`. */
  workDir: string;
  /** Named to the job in GIGAFACTORY_FACTORY_ID. */
  factoryId: string;
  /** The agent's variables the operator passes through to jobs by name (`--pass-env`). */
  passEnv?: readonly string[];
  /** Runs the job as this user, in a workspace it owns; otherwise as the agent's own user. */
  runAs?: RunAsUser;
  /** Time between SIGTERM and SIGKILL when the job's timeout fires. Default 5 s. */
  timeoutGraceMs?: number;
  /**
   * Aborted when the job must not start after all (its lease was revoked, or it was cancelled,
   * while the workspace was being made): no process is spawned, and the attempt ends 'cancelled'
   * with the abort's reason.
   */
  signal?: AbortSignal;
  /**
   * Runs in the made workspace before the command starts (inputs fetched, a checkpoint restored).
   * A rejection fails the attempt with its message; the command does not start.
   */
  prepare?: (workspace: string) => Promise<void>;
}

/** One running (or already finished) attempt. */
export interface JobProcess {
  readonly jobId: string;
  readonly epoch: bigint;
  /** The attempt's working directory. */
  readonly workspace: string;
  /** The child's pid, which is also its process group id; undefined when it could not start. */
  readonly pid: number | undefined;
  /** The child's output. Read it (see log-batcher.ts), or a chatty child blocks on a full pipe. */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** How the attempt ended. Settles once and never rejects: a command that cannot start is 'failed'. */
  readonly done: Promise<AttemptReport>;
  /**
   * Stops the job: SIGTERM to its process group, SIGKILL to the group after `graceMs` if the program
   * is still running. The outcome is 'cancelled' unless the attempt had already ended or timed out.
   */
  stop(graceMs: number, reason: string): Promise<AttemptReport>;
}

export const DEFAULT_TIMEOUT_GRACE_MS = 5_000;

/** setTimeout fires at once for delays above 2^31-1 ms, so longer limits are clamped (~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The file a job may write its cost to (a decimal number, e.g. `0.42`), named to it in
 * GIGAFACTORY_COST_FILE; the agent reports it in the result and the coordinator charges the product.
 */
export const COST_FILE = '.gigafactory-cost';
/** Where the agent warns the job that it nears its cost ceiling (agent/cost-meter.ts). */
export const COST_NOTICE_FILE = '.gigafactory-cost-notice';

/**
 * GIGAFACTORY_ARTIFACTS_DIR: files the job writes here are uploaded when the attempt ends (see
 * artifact-uploader.ts), named by their path below it.
 */
export const ARTIFACTS_DIR = '.gigafactory-artifacts';

/** The attempt's artifacts directory, inside its workspace (so it belongs to the job's user). */
export function artifactsDirOf(workspace: string): string {
  return path.join(workspace, ARTIFACTS_DIR);
}

/** Reads the run spec out of a lease offer; an unset timeout means no limit. */
export function runSpecFromOffer(offer: LeaseOffer): JobRunSpec {
  const job = offer.job;
  return {
    jobId: offer.jobId,
    epoch: offer.epoch,
    command: job?.command ?? [],
    env: job?.env ?? {},
    timeoutMs: job?.timeout ? durationMs(job.timeout) : 0,
    leaseToken: offer.leaseToken,
    costCeiling: job?.costCeiling ?? 0,
  };
}

/**
 * The attempt's workspace. The epoch keeps a retried attempt away from a zombie's files; the job id
 * is reduced to safe characters because it names a directory. Absolute, because the paths under it
 * (GIGAFACTORY_COST_FILE) are handed to a job that runs from the workspace itself, not the agent's cwd.
 */
export function jobWorkspace(workDir: string, jobId: string, epoch: bigint): string {
  return path.resolve(workDir, 'jobs', `${jobId.replace(/[^A-Za-z0-9._-]/g, '_')}-${epoch}`);
}

/** Creates the workspace and spawns the command. Never rejects: failures become a 'failed' outcome. */
export async function startJob(spec: JobRunSpec, opts: StartJobOptions): Promise<JobProcess> {
  const workspace = jobWorkspace(opts.workDir, spec.jobId, spec.epoch);
  const [program, ...args] = spec.command;
  if (program === undefined || program === '') return notStarted(spec, workspace, 'job has no command');
  try {
    await makeWorkspace(opts.workDir, workspace, opts.runAs);
  } catch (err) {
    return notStarted(spec, workspace, `cannot create workspace ${workspace}: ${errorText(err)}`);
  }
  if (opts.prepare) {
    try {
      await opts.prepare(workspace);
    } catch (err) {
      if (!opts.signal?.aborted) return notStarted(spec, workspace, `could not prepare the job: ${errorText(err)}`);
    }
  }
  if (opts.signal?.aborted) return notStarted(spec, workspace, `not started: ${errorText(opts.signal.reason)}`, 'cancelled');
  let child: ChildProcess;
  try {
    child = spawnChild(program, args, workspace, spec, opts);
  } catch (err) {
    // Thrown rather than emitted: an argument list or environment too large (E2BIG), a NUL byte in it.
    return notStarted(spec, workspace, startError(program, err as Error));
  }
  return new ChildJob(spec, workspace, program, child, opts.timeoutGraceMs ?? DEFAULT_TIMEOUT_GRACE_MS);
}

/**
 * The workspace, readable by the job's user only. When the job runs as another user, the
 * directories above it let that user pass through to it, never list them (the agent's token and
 * unsent results beside `jobs/` stay the agent's own, mode 0600).
 */
async function makeWorkspace(workDir: string, workspace: string, runAs: RunAsUser | undefined): Promise<void> {
  (runAs ? makePassThroughDir : makePrivateDir)(path.join(workDir, 'jobs'));
  makePrivateDir(workspace);
  makePrivateDir(artifactsDirOf(workspace));
  makePrivateDir(checkpointDirOf(workspace));
  if (runAs) {
    await chown(workspace, runAs.uid, runAs.gid);
    await chown(artifactsDirOf(workspace), runAs.uid, runAs.gid);
    await chown(checkpointDirOf(workspace), runAs.uid, runAs.gid);
  }
}

function spawnChild(program: string, args: string[], workspace: string, spec: JobRunSpec, opts: StartJobOptions): ChildProcess {
  return spawn(program, args, {
    cwd: workspace,
    env: jobEnvironment({
      jobId: spec.jobId,
      epoch: spec.epoch,
      factoryId: opts.factoryId,
      workspace,
      checkpointDir: checkpointDirOf(workspace),
      costFile: path.join(workspace, COST_FILE),
      costNoticeFile: path.join(workspace, COST_NOTICE_FILE),
      artifactsDir: artifactsDirOf(workspace),
      leaseToken: spec.leaseToken ?? '',
      specEnv: spec.env,
      passEnv: opts.passEnv ?? [],
      otherUser: opts.runAs !== undefined,
    }),
    ...(opts.runAs ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}),
    // Own process group (POSIX) so a stop reaches grandchildren; hidden console on Windows.
    detached: true,
    windowsHide: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

type StopCause = { outcome: 'timed_out' | 'cancelled'; message: string };

class ChildJob implements JobProcess {
  readonly jobId: string;
  readonly epoch: bigint;
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly done: Promise<AttemptReport>;
  private settle!: (report: AttemptReport) => void;
  private settled = false;
  /** Set by the first stop or timeout; decides the outcome whatever the exit code turns out to be. */
  private cause: StopCause | null = null;
  private killAt = Infinity;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly timeoutTimer: NodeJS.Timeout | undefined;

  constructor(
    spec: JobRunSpec,
    readonly workspace: string,
    program: string,
    child: ChildProcess,
    timeoutGraceMs: number,
  ) {
    this.jobId = spec.jobId;
    this.epoch = spec.epoch;
    this.pid = child.pid;
    // Both exist because stdio is 'pipe'; even a failed spawn ends them.
    this.stdout = child.stdout as Readable;
    this.stderr = child.stderr as Readable;
    this.done = new Promise<AttemptReport>((resolve) => (this.settle = resolve)).then((report) => withReportedCost(report, path.join(workspace, COST_FILE)));

    child.on('error', (err) => {
      // After a successful spawn 'error' only means a signal could not be sent; 'exit' still follows.
      if (child.pid === undefined) this.finish({ outcome: 'failed', exitCode: null, message: startError(program, err) });
    });
    child.once('exit', (code, signal) => {
      // Whatever the program left behind in its group would hold the output pipes open (so its log
      // never ends) and outlive its lease: the attempt is over, so the group goes with it.
      this.signalGroup('SIGKILL');
      this.finish(this.report(code, signal));
    });
    if (spec.timeoutMs > 0) {
      this.timeoutTimer = setTimeout(
        () => this.beginStop({ outcome: 'timed_out', message: `timed out after ${spec.timeoutMs} ms` }, timeoutGraceMs),
        Math.min(spec.timeoutMs, MAX_TIMER_MS),
      );
    }
  }

  stop(graceMs: number, reason: string): Promise<AttemptReport> {
    this.beginStop({ outcome: 'cancelled', message: `cancelled: ${reason}` }, graceMs);
    return this.done;
  }

  private beginStop(cause: StopCause, graceMs: number): void {
    if (this.settled) return;
    this.cause ??= cause;
    this.signalGroup('SIGTERM');
    // A second stop may shorten the grace (a cancel during a timeout's grace), never lengthen it.
    const killAt = Date.now() + graceMs;
    if (killAt < this.killAt) {
      this.killAt = killAt;
      clearTimeout(this.killTimer);
      this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    }
  }

  private report(code: number | null, signal: NodeJS.Signals | null): AttemptReport {
    const how = code !== null ? `exited with code ${code}` : `killed by ${signal ?? 'a signal'}`;
    if (this.cause) return { outcome: this.cause.outcome, exitCode: code, message: `${this.cause.message} (${how})` };
    return { outcome: code === 0 ? 'succeeded' : 'failed', exitCode: code, message: how };
  }

  private finish(report: AttemptReport): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.killTimer);
    this.settle(report);
  }

  private signalGroup(signal: 'SIGTERM' | 'SIGKILL'): void {
    const pid = this.pid;
    if (pid === undefined) return;
    if (process.platform === 'win32') {
      // No process groups or SIGTERM on Windows: taskkill /t ends the whole tree, forcibly.
      spawn('taskkill', ['/pid', String(pid), '/t', '/f'], { stdio: 'ignore', windowsHide: true }).once('error', () => {});
      return;
    }
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone, which is what we wanted. EPERM: the id now names
      // somebody else's group, which we must not touch. Neither may crash the agent.
    }
  }
}

/**
 * Adds the cost the job wrote to its cost file. A missing file is no cost; anything but a finite
 * number >= 0 is ignored and said in the result's message, so the operator sees why nothing was charged.
 */
export async function withReportedCost(report: AttemptReport, file: string): Promise<AttemptReport> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch {
    return report; // no cost file: the job reported no cost
  }
  // One number per line, summed (agent/cost-meter.ts); a file of one number is its own total.
  const { total: cost, bad } = text === '' ? { total: NaN, bad: '' } : sumCostLines(text, false);
  if (bad !== null) {
    return { ...report, message: `${report.message} (cost file ignored: ${JSON.stringify(bad)} is not a number >= 0)` };
  }
  return cost > 0 ? { ...report, cost } : report;
}

/** An attempt that ended before a process existed: ended output, a 'failed' (or 'cancelled') outcome. */
function notStarted(spec: JobRunSpec, workspace: string, message: string, outcome: 'failed' | 'cancelled' = 'failed'): JobProcess {
  const report: AttemptReport = { outcome, exitCode: null, message };
  const done = Promise.resolve(report);
  return {
    jobId: spec.jobId,
    epoch: spec.epoch,
    workspace,
    pid: undefined,
    stdout: new PassThrough().end(),
    stderr: new PassThrough().end(),
    done,
    stop: () => done,
  };
}

function startError(program: string, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'command not found' : code === 'EACCES' ? 'permission denied' : err.message;
  return `cannot start ${JSON.stringify(program)}: ${why}${code ? ` (${code})` : ''}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

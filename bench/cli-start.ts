/**
 * Start-up of the `gigafactory` command (issue 21: `--help` and `jobs` under 300 ms on an idle
 * machine): `gigafactory --help` and `gigafactory jobs` (against a real coordinator in this process,
 * holding a few jobs) from the compiled CLI (dist/cli, what `npm ci` builds), beside `node -e 0`
 * (Node's own start: the floor) and the same two commands through tsx (GIGAFACTORY_CLI_FROM_SOURCE=1,
 * how every call ran before the CLI was compiled: the baseline). Each round runs all five one after
 * another, so they share the machine's conditions; median and p90 over the rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../src/cli/build.js';
import { ServeConfigSchema } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { startServer } from '../src/server/app.js';
import { jobClient } from '../src/cli/client.js';
import { timeStart } from './agent-start.js';
import { fmt, median, percentile, progress, progressDone, type Row } from './stats.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'gigafactory.mjs');
const COMMANDS = ['node', 'help', 'jobs', 'helpTsx', 'jobsTsx'] as const;
type Command = (typeof COMMANDS)[number];

export interface CliStartResult {
  rounds: number;
  /** Wall time from spawn to exit, in ms, per command. */
  ms: Record<Command, { median: number; p90: number }>;
}

export async function runCliStart(opts: { rounds: number }): Promise<CliStartResult> {
  progress('[cli-start] compiling the CLI into dist/cli');
  await buildCli();
  const dataDir = mkdtempSync(join(tmpdir(), 'gigafactory-bench-cli-'));
  const server = await startServer({ config: ServeConfigSchema.parse({ dataDir, grpcPort: 0, httpPort: 0, insecureDev: true, logLevel: 'silent' }), log: createLogger({ level: 'silent' }) });
  try {
    const jobs = jobClient(server.grpc.address);
    for (let i = 0; i < 20; i++) await jobs.submitJob({ productId: 'bench', title: `job ${i}`, command: ['true'] });
    const compiled = { ...process.env, GIGAFACTORY_CLI_FROM_SOURCE: '' };
    const fromSource = { ...process.env, GIGAFACTORY_CLI_FROM_SOURCE: '1' };
    const runs: Record<Command, [string[], NodeJS.ProcessEnv]> = {
      node: [[process.execPath, '-e', '0'], process.env],
      help: [[process.execPath, BIN, '--help'], compiled],
      jobs: [[process.execPath, BIN, '--coordinator', server.grpc.address, 'jobs'], compiled],
      helpTsx: [[process.execPath, BIN, '--help'], fromSource],
      jobsTsx: [[process.execPath, BIN, '--coordinator', server.grpc.address, 'jobs'], fromSource],
    };
    const samples = Object.fromEntries(COMMANDS.map((c) => [c, [] as number[]])) as Record<Command, number[]>;
    for (let round = 1; round <= opts.rounds; round++) {
      progress(`[cli-start] round ${round}/${opts.rounds}: node -e 0, --help and jobs compiled, then through tsx`);
      for (const command of COMMANDS) samples[command].push(await timeStart(runs[command][0], ROOT, runs[command][1]));
    }
    progressDone();
    return { rounds: opts.rounds, ms: Object.fromEntries(COMMANDS.map((c) => [c, { median: median(samples[c]), p90: percentile(samples[c], 90) }])) as CliStartResult['ms'] };
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function cliStartRows(r: CliStartResult | null): Row[] {
  if (!r) return [];
  const row = (label: string, c: Command, note: string): Row => [label, `${fmt(r.ms[c].median)} (p90 ${fmt(r.ms[c].p90)})`, 'ms', note];
  const target = (c: Command): string => `${fmt(r.ms[c].median - r.ms.node.median)} ms above the floor; ${r.ms[c].median < 300 ? 'under' : 'OVER'} 300 ms`;
  return [
    { section: `CLI start-up — wall time to exit, median (p90) of ${r.rounds} rounds (issue 21: --help and jobs under 300 ms)` },
    row('node -e 0', 'node', "Node's own start: the floor"),
    row('gigafactory --help (compiled)', 'help', target('help')),
    row('gigafactory jobs (compiled)', 'jobs', `${target('jobs')}; lists 20 jobs from a live coordinator`),
    row('gigafactory --help (tsx)', 'helpTsx', 'the baseline: the sources compiled by tsx on every call, as before'),
    row('gigafactory jobs (tsx)', 'jobsTsx', `the baseline; compiled is ${fmt(r.ms.jobsTsx.median / r.ms.jobs.median)}× faster`),
  ];
}

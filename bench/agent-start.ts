/**
 * Start-up of the packaged agent (issue #24: under 300 ms): `gigafactory-agent --version` from the
 * bundle `npm run build:agent` makes, beside `node -e 0` (Node's own start on this machine, the
 * floor) and the agent from its sources through tsx (`node --import tsx agent/main.ts --version`, how
 * it starts in a checkout). Each round runs the three one after another, so they share the machine's
 * conditions; medians over the rounds. `--version` answers before anything connects, so this is
 * loading and compiling the program, which every start pays.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAgentPackage } from '../agent/package/build.js';
import { fmt, median, progress, progressDone, type Row } from './stats.js';

const ROOT = join(import.meta.dirname, '..');

export interface AgentStartResult {
  rounds: number;
  bundleKiB: number;
  /** Median wall time of each start, in ms. */
  medianMs: { node: number; bundle: number; tsx: number };
}

export async function runAgentStart(opts: { rounds: number }): Promise<AgentStartResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gigafactory-bench-agent-'));
  try {
    progress('[agent-start] building the agent bundle');
    const { bundle } = await buildAgentPackage({ outDir: dir });
    const commands = {
      node: [process.execPath, '-e', '0'],
      bundle: [process.execPath, bundle, '--version'],
      tsx: [process.execPath, '--import', 'tsx', join(ROOT, 'agent', 'main.ts'), '--version'],
    };
    const samples = { node: [] as number[], bundle: [] as number[], tsx: [] as number[] };
    for (let round = 1; round <= opts.rounds; round++) {
      progress(`[agent-start] round ${round}/${opts.rounds}: node -e 0, the bundle, tsx`);
      for (const [name, argv] of Object.entries(commands) as [keyof typeof commands, string[]][]) samples[name].push(await timeStart(argv, ROOT));
    }
    progressDone();
    return {
      rounds: opts.rounds,
      bundleKiB: statSync(bundle).size / 1024,
      medianMs: { node: median(samples.node), bundle: median(samples.bundle), tsx: median(samples.tsx) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Wall time from spawn to exit, in ms; a failing start is an error, not a figure. Asynchronous, so
 * a coordinator in this process can answer the command being timed.
 */
export function timeStart(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${argv.slice(1).join(' ')} exited ${code ?? signal}: ${stderr.slice(0, 200)}`));
    });
  });
}

export function agentStartRows(r: AgentStartResult | null): Row[] {
  if (!r) return [];
  return [
    { section: `Agent start-up — wall time to exit of --version, median of ${r.rounds} rounds (issue #24: the bundle under 300 ms)` },
    ['node -e 0', fmt(r.medianMs.node), 'ms', "Node's own start: the floor"],
    ['gigafactory-agent --version (bundle)', fmt(r.medianMs.bundle), 'ms', `one ${fmt(r.bundleKiB, 0)} KiB file, no node_modules; ${fmt(r.medianMs.bundle - r.medianMs.node)} ms above the floor; ${r.medianMs.bundle < 300 ? 'under' : 'OVER'} 300 ms`],
    ['agent/main.ts --version (tsx)', fmt(r.medianMs.tsx), 'ms', 'from the sources in a checkout, compiled by tsx at start'],
  ];
}

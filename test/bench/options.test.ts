/**
 * The benchmark's command line (bench/run.ts), run as a real process: the parts `--only` accepts are
 * listed by `--help`, and a part name it does not know is refused with the list, before anything runs.
 * No figures here: benchmarks print them, tests do not time anything.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const RUN = join(import.meta.dirname, '..', '..', 'bench', 'run.ts');
const PARTS = ['dispatch', 'bullmq', 'baseline', 'fleet', 'recovery', 'logs', 'scheduler', 'replicas', 'agent-start'];

function bench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', RUN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bench command line', () => {
  it('--help lists every part --only accepts', () => {
    const { status, stdout } = bench('--help');
    expect(status).toBe(0);
    const only = stdout.slice(stdout.indexOf('--only <parts>'));
    for (const part of PARTS) expect(only).toContain(part);
  });

  it('refuses an unknown part, naming it and the valid ones', () => {
    const { status, stdout, stderr } = bench('--only', 'dispatch,bogus');
    expect(status).not.toBe(0);
    expect(stderr).toContain('unknown part "bogus"');
    expect(stderr).toContain(`choose from ${PARTS.join(', ')}`);
    expect(stdout).toBe('');
  });

  it('refuses an empty part list', () => {
    const { status, stderr } = bench('--only', ' , ');
    expect(status).not.toBe(0);
    expect(stderr).toContain('no part named');
  });
});

/** The real `gigafactory` command as a child process (bin/gigafactory.mjs), for the CLI tests. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'gigafactory.mjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI without any key or coordinator from this environment; resolves with its exit code
 * and output. `onStdout` sees the output as it arrives (to act on a job id the command printed).
 */
export function cli(args: string[], env: Record<string, string> = {}, onStdout?: (text: string) => void): Promise<CliRun> {
  const { GIGAFACTORY_API_KEY: _, GIGAFACTORY_COORDINATOR: __, ...inherited } = process.env;
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { ...inherited, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (onStdout) {
      let seen = '';
      child.stdout!.on('data', (data: Buffer) => onStdout((seen += data.toString())));
    }
  });
}

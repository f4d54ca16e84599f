/**
 * Azurite's blob service (the Azure Storage emulator, a devDependency) as a child process on an
 * ephemeral loopback port, keeping its data in a temp dir: loose mode (it ignores headers it does
 * not know rather than failing), no API version check, no telemetry. A child process rather than
 * in-process, because azurite sets up process-wide loggers and signal handlers of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Azurite's well-known development account (public, the same in every azurite). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  /** Path-style blob endpoint: http://127.0.0.1:<port>/devstoreaccount1. */
  endpoint: string;
  connectionString: string;
  /** A container name no other test uses. */
  freshContainer(): string;
  stop(): Promise<void>;
}

export async function startAzurite(): Promise<Azurite> {
  const location = await mkdtemp(join(tmpdir(), 'gf-azurite-'));
  const main = createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js');
  const child = spawn(
    process.execPath,
    [main, '--blobHost', '127.0.0.1', '--blobPort', '0', '--location', location, '--loose', '--skipApiVersionCheck', '--disableTelemetry'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let url: string;
  try {
    url = await listeningUrl(child);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(location, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `${url}/${AZURITE_ACCOUNT}`;
  let counter = 0;
  return {
    endpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${endpoint};`,
    freshContainer: () => `test-${process.pid}-${++counter}`,
    async stop() {
      const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      child.kill('SIGTERM');
      // It waits for open keep-alive connections to close; do not let a lingering one hold the suite.
      const stubborn = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(stubborn);
      await rm(location, { recursive: true, force: true });
    },
  };
}

/** Waits for azurite's "successfully listens on http://…" line; rejects if it exits first. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const output: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const match = /listens on (http:\/\/[^\s]+)/.exec(line);
      if (match?.[1] !== undefined) resolve(match[1].replace(/\/$/, ''));
    });
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
    child.once('exit', (code) => reject(new Error(`azurite exited (${code}) before listening:\n${output.join('\n')}`)));
  });
}

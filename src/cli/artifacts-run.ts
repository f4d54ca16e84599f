/**
 * `gigafactory artifacts JOB_ID` lists a job's files (JobService.ListArtifacts); `artifacts get
 * JOB_ID NAME [-o path]` downloads one (DownloadArtifact) into a temporary file beside the target,
 * checks its SHA-256, and renames it into place, with a progress bar on stderr when it is a terminal.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ArtifactKind } from '../../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import { jobClient } from './client.js';
import type { ClientSecurity } from './connection-options.js';
import { print, printable } from './format-text.js';

function epochOf(text: string | undefined): bigint {
  if (text === undefined) return 0n;
  if (!/^\d{1,15}$/.test(text)) throw new Error(`--epoch must be a whole number, not "${text.slice(0, 20)}"`);
  return BigInt(text);
}

/** "12.3 MiB" */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export async function listArtifacts(address: string, sec: ClientSecurity, json: boolean, jobId: string, opts: { epoch?: string }): Promise<void> {
  const { artifacts } = await jobClient(address, sec).listArtifacts({ jobId, epoch: epochOf(opts.epoch) });
  const rows = artifacts.map((a) => ({
    epoch: Number(a.epoch),
    kind: a.kind === ArtifactKind.CHECKPOINT ? 'checkpoint' : 'artifact',
    name: a.name,
    size: Number(a.sizeBytes),
    sha256: a.sha256,
    contentType: a.contentType,
  }));
  if (json) return print(rows);
  if (rows.length === 0) return print(`job ${jobId} has no artifacts`);
  for (const r of rows) print(`${String(r.epoch).padStart(5)}  ${r.kind === 'checkpoint' ? 'ckpt ' : ''}${printable(r.name)}  ${humanBytes(r.size)}  ${r.sha256.slice(0, 12)}  ${printable(r.contentType)}`);
}

/** A one-line progress bar redrawn on stderr (only when stderr is a terminal). */
function progress(total: number): { update(done: number): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let last = -1;
  return {
    update(done) {
      if (!tty) return;
      const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
      if (pct === last) return;
      last = pct;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${humanBytes(done)} / ${humanBytes(total)}`);
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}

export async function getArtifact(address: string, sec: ClientSecurity, jobId: string, name: string, opts: { output?: string; epoch?: string }): Promise<void> {
  const target = opts.output ?? basename(name);
  const toStdout = target === '-';
  const temp = `${target}.part`;
  const out: Writable = toStdout ? process.stdout : createWriteStream(temp, { mode: 0o644 });
  const hash = createHash('sha256');
  let expected = '';
  let total = 0;
  let done = 0;
  let bar: ReturnType<typeof progress> | null = null;
  try {
    for await (const msg of jobClient(address, sec).downloadArtifact({ jobId, name, epoch: epochOf(opts.epoch) })) {
      if (msg.artifact) {
        expected = msg.artifact.sha256;
        total = Number(msg.artifact.sizeBytes);
        bar = progress(total);
      }
      hash.update(msg.data);
      if (!out.write(msg.data)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      done += msg.data.length;
      bar?.update(done);
    }
    bar?.end();
    if (!toStdout) {
      out.end();
      await finished(out);
    }
    const got = hash.digest('hex');
    if (got !== expected) throw new Error(`downloaded bytes have SHA-256 ${got}, not the artifact's ${expected}; nothing was written`);
    if (!toStdout) {
      await rename(temp, target);
      process.stderr.write(`${target}: ${humanBytes(done)}, sha256 ${got}\n`);
    }
  } catch (err) {
    if (!toStdout) {
      out.destroy();
      await rm(temp, { force: true });
    }
    throw err;
  }
}

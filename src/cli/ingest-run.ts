/**
 * What `gigafactory ingest FILE` does (its flags are in ingest-command.ts): sends a tracker manifest to TrackerService.IngestItems in batches and
 * reports, per entry, what happened. Exit status: 0 when every entry was valid, 1 when any was
 * invalid (the valid ones are still ingested), 2 when the file itself is unusable (nothing sent).
 */
import { create, toJson } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { JobSchema } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { IngestOutcome, TrackerItemSchema, type IngestResult, type TrackerItem } from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import { TrackerService } from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import { serviceClient } from './client.js';
import type { ClientSecurity } from './connection-options.js';
import { print, table } from './format-text.js';
import { parseLabelFlag } from './label-flag.js';
import { ManifestError, parseManifest, type ManifestItem } from './manifest.js';

/** Items per IngestItems request (the coordinator takes at most 500). */
const BATCH_SIZE = 100;

const OUTCOMES = ['created', 'updated', 'unchanged', 'skipped', 'invalid'] as const;
type Outcome = (typeof OUTCOMES)[number];

interface ReportRow {
  index: number;
  externalId: string;
  outcome: Outcome;
  jobId: string;
  reason: string;
  job?: unknown;
}

/** Reads, checks and sends the manifest; sets the exit status as the header says. */
export async function ingest(coordinator: () => string, security: () => ClientSecurity, json: () => boolean, file: string, opts: { dryRun: boolean }): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail(`cannot read manifest ${file}: ${(err as Error).message}`);
  }
  let entries;
  try {
    entries = parseManifest(text, file);
  } catch (err) {
    if (err instanceof ManifestError) return fail(err.message);
    throw err;
  }
  const rows: ReportRow[] = [];
  const toSend: { index: number; item: TrackerItem }[] = [];
  for (const entry of entries) {
    if ('invalid' in entry) rows.push({ index: entry.index, externalId: entry.externalId, outcome: 'invalid', jobId: '', reason: entry.invalid });
    else {
      try {
        toSend.push({ index: entry.index, item: toWire(entry.item) });
      } catch (err) {
        rows.push({ index: entry.index, externalId: entry.item.externalId, outcome: 'invalid', jobId: '', reason: (err as Error).message });
      }
    }
  }
  const client = serviceClient(TrackerService, coordinator(), security());
  const batches = Math.ceil(toSend.length / BATCH_SIZE);
  for (let b = 0; b < batches; b++) {
    const batch = toSend.slice(b * BATCH_SIZE, (b + 1) * BATCH_SIZE);
    const res = await client.ingestItems({ items: batch.map((e) => e.item), dryRun: opts.dryRun });
    res.results.forEach((result, i) => rows.push(row(batch[i]!.index, result)));
    process.stderr.write(`batch ${b + 1}/${batches}: ${batch.length} items ${opts.dryRun ? 'checked (dry run)' : 'ingested'}\n`);
  }
  rows.sort((a, b) => a.index - b.index);
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, rows.filter((r) => r.outcome === o).length])) as Record<Outcome, number>;
  if (json()) {
    print({ dryRun: opts.dryRun, counts, results: rows });
  } else {
    print(table(['#', 'EXTERNAL ID', 'OUTCOME', 'JOB', 'REASON'], rows.map((r) => [String(r.index), r.externalId, r.outcome, r.jobId, r.reason])));
    print(`${OUTCOMES.map((o) => `${o} ${counts[o]}`).join(', ')}${opts.dryRun ? ' (dry run: nothing was stored)' : ''}`);
  }
  if (counts.invalid > 0) process.exitCode = 1;
}

function toWire(item: ManifestItem): TrackerItem {
  return create(TrackerItemSchema, {
    externalId: item.externalId,
    title: item.title,
    productId: item.productId,
    labels: item.labels,
    commandTemplate: item.commandTemplate,
    url: item.url,
    priority: item.priority,
    requiredLabels: item.requires.map((text, i) => {
      try {
        return parseLabelFlag(text);
      } catch (err) {
        throw new Error(`requires.${i}: ${(err as Error).message.replace('--label', 'requirement')}`);
      }
    }),
  });
}

function row(index: number, result: IngestResult): ReportRow {
  const outcome = (IngestOutcome[result.outcome] ?? 'invalid').toLowerCase() as Outcome;
  return {
    index,
    externalId: result.externalId,
    outcome,
    jobId: result.job?.id ?? '',
    reason: result.reason,
    ...(result.job ? { job: toJson(JobSchema, result.job) } : {}),
  };
}

/** A manifest that cannot be used: say why and exit 2 before anything is sent. */
function fail(message: string): void {
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = 2;
}

/**
 * Tracker ingest end to end: the real CLI (`bin/gigafactory.mjs ingest`) against a real coordinator
 * on SQLite, with a manifest of good and bad entries, a dry run that stores nothing, re-ingests that
 * update, leave alone or skip, and malformed files refused before anything is sent. Then the RPCs'
 * own refusals and concurrent ingests of one item.
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { IngestOutcome, TrackerService } from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'gigafactory.mjs');
let server: TestServer;
let dir: string;
let jobs: Client<typeof JobService>;
let tracker: Client<typeof TrackerService>;

beforeAll(async () => {
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'gigafactory-ingest-'));
  const transport = createGrpcTransport({ baseUrl: server.grpcUrl });
  jobs = createClient(JobService, transport);
  tracker = createClient(TrackerService, transport);
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the real CLI; resolves with its exit code and output (never rejects on a non-zero exit). */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, '--coordinator', server.grpc.address, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function manifest(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const MANIFEST = `
defaults:
  product: tracker
  command: [./triage.sh, "{{external_id}}", "--team={{labels.team}}"]
  labels: { team: infra }
  priority: 5
items:
  - id: PROJ-1
    title: Fix the login page
    url: https://tracker.example/PROJ-1
  - id: PROJ-2
    title: Speed up the build
    labels: { team: build }
    requires: [os=linux]
  - id: PROJ-3
    priority: lots            # bad: not a number
  - id: PROJ-4
    command: [run, "{{assignee}}"]   # bad: unknown placeholder
  - id: PROJ-5
    requires: ["<=oops"]      # bad: not a label requirement
  - id: PROJ-6
    title: Write the docs
`;

const productJobs = async () => (await jobs.listJobs({ productId: 'tracker', pageSize: 100 })).jobs;

describe('gigafactory ingest', () => {
  it('dry run: reports what would happen, bad entries with their reasons, and stores nothing', async () => {
    const path = manifest('dry.yaml', MANIFEST);
    const { code, stdout, stderr } = await cli('ingest', path, '--dry-run');
    expect(code).toBe(1); // some entries are invalid
    expect(stderr).toBe('batch 1/1: 4 items checked (dry run)\n'); // PROJ-3 and PROJ-5 were refused before sending
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^#\s+EXTERNAL ID\s+OUTCOME\s+JOB\s+REASON$/);
    expect(lines.slice(1, 7).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['0', 'PROJ-1', 'created'],
      ['1', 'PROJ-2', 'created'],
      ['2', 'PROJ-3', 'invalid'],
      ['3', 'PROJ-4', 'invalid'],
      ['4', 'PROJ-5', 'invalid'],
      ['5', 'PROJ-6', 'created'],
    ]);
    expect(stdout).toContain('priority: Invalid input: expected number, received string');
    expect(stdout).toContain('command_template uses unknown placeholder {{assignee}}');
    expect(stdout).toContain('requires.0: requirement "<=oops" must look like');
    expect(lines.at(-1)).toBe('created 3, updated 0, unchanged 0, skipped 0, invalid 3 (dry run: nothing was stored)');
    expect(await productJobs()).toEqual([]);
  });

  it('creates the good entries despite the bad ones, then finds them again by external id', async () => {
    const path = manifest('real.yaml', MANIFEST);
    const first = await cli('--json', 'ingest', path);
    expect(first.code).toBe(1);
    const report = JSON.parse(first.stdout) as { dryRun: boolean; counts: Record<string, number>; results: { externalId: string; outcome: string; jobId: string; reason: string }[] };
    expect(report.counts).toEqual({ created: 3, updated: 0, unchanged: 0, skipped: 0, invalid: 3 });
    expect(report.results.filter((r) => r.outcome === 'invalid').map((r) => r.externalId)).toEqual(['PROJ-3', 'PROJ-4', 'PROJ-5']);
    const stored = await productJobs();
    expect(stored.map((j) => j.externalId).sort()).toEqual(['PROJ-1', 'PROJ-2', 'PROJ-6']);
    const one = stored.find((j) => j.externalId === 'PROJ-1')!;
    expect(one).toMatchObject({ title: 'Fix the login page', command: ['./triage.sh', 'PROJ-1', '--team=infra'], priority: 5, externalUrl: 'https://tracker.example/PROJ-1', externalLabels: { team: 'infra' }, idempotencyKey: 'tracker:PROJ-1' });
    expect(stored.find((j) => j.externalId === 'PROJ-2')!.requiredLabels.map((r) => r.key)).toEqual(['os']);

    const again = await cli('ingest', path);
    expect(again.code).toBe(1);
    expect(again.stdout.trim().split('\n').at(-1)).toBe('created 0, updated 0, unchanged 3, skipped 0, invalid 3');
    expect(await productJobs()).toHaveLength(3);
  });

  it('updates a queued item’s job, and skips one whose job has ended, saying why', async () => {
    const cancelled = (await productJobs()).find((j) => j.externalId === 'PROJ-6')!;
    await jobs.cancelJob({ jobId: cancelled.id, reason: 'won’t do' });
    const path = manifest(
      'changed.yaml',
      `
defaults: { product: tracker, command: [./triage.sh, "{{external_id}}"] }
items:
  - { id: PROJ-1, title: Fix the login page today, priority: 9 }
  - { id: PROJ-6, title: Write more docs }
`,
    );
    const dry = await cli('ingest', path, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim().split('\n').at(-1)).toBe('created 0, updated 1, unchanged 0, skipped 1, invalid 0 (dry run: nothing was stored)');
    expect((await productJobs()).find((j) => j.externalId === 'PROJ-1')!.title).toBe('Fix the login page');

    const { code, stdout } = await cli('ingest', path);
    expect(code).toBe(0);
    expect(stdout).toContain(`job ${cancelled.id} is cancelled; not updated (it changes only while queued or blocked)`);
    expect(stdout.trim().split('\n').at(-1)).toBe('created 0, updated 1, unchanged 0, skipped 1, invalid 0');
    const updated = (await productJobs()).find((j) => j.externalId === 'PROJ-1')!;
    expect(updated).toMatchObject({ title: 'Fix the login page today', priority: 9, command: ['./triage.sh', 'PROJ-1'], stage: JobStage.QUEUED });
  });

  it.each([
    ['not YAML', 'items: [a, b', /^error: manifest .*bad-0\.yaml: not valid YAML: /],
    ['a list, not a mapping', '- id: A', /^error: manifest .*bad-1\.yaml: must be a mapping with "items"/],
    ['no items', 'defaults: { product: p }', /^error: manifest .*bad-2\.yaml: items: Invalid input: expected array, received undefined/],
    ['an unknown top-level key', 'items: [{ id: A }]\ndefault: {}', /^error: manifest .*bad-3\.yaml: \(entry\): Unrecognized key: "default"/],
  ])('refuses a malformed manifest (%s) with exit 2 before sending anything', async (_, text, message) => {
    const index = ['items: [a, b', '- id: A', 'defaults: { product: p }', 'items: [{ id: A }]\ndefault: {}'].indexOf(text);
    const before = (await jobs.listJobs({ pageSize: 500 })).jobs.length;
    const { code, stdout, stderr } = await cli('ingest', manifest(`bad-${index}.yaml`, text));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect((await jobs.listJobs({ pageSize: 500 })).jobs.length).toBe(before);
  });

  it('says so when the file cannot be read', async () => {
    const { code, stderr } = await cli('ingest', join(dir, 'missing.yaml'));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: cannot read manifest .*missing\.yaml: ENOENT/);
  });
});

describe('TrackerService', () => {
  const item = { externalId: 'RPC-1', title: 'One', productId: 'rpc', commandTemplate: ['echo', '{{title}}'] };

  it('refuses a bad request with INVALID_ARGUMENT naming what was wrong', async () => {
    const refusal = async (call: Promise<unknown>) => ConnectError.from(await call.then(() => new Error('accepted'), (e: unknown) => e));
    expect(await refusal(tracker.ingestItem({}))).toMatchObject({ code: Code.InvalidArgument, rawMessage: 'item is required' });
    expect(await refusal(tracker.ingestItem({ item: { ...item, commandTemplate: ['{{nope}}'] } }))).toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: 'item RPC-1: command_template uses unknown placeholder {{nope}} (known: {{external_id}}, {{title}}, {{url}}, {{product}}, {{labels.KEY}})',
    });
    expect(await refusal(tracker.ingestItem({ item: { ...item, externalId: '' } }))).toMatchObject({ code: Code.InvalidArgument, rawMessage: 'item (no external_id): external_id is required' });
    expect(await refusal(tracker.ingestItems({ items: [] }))).toMatchObject({ code: Code.InvalidArgument, rawMessage: 'items must have at least one item' });
    expect(await refusal(tracker.ingestItems({ items: Array.from({ length: 501 }, () => item) }))).toMatchObject({ code: Code.InvalidArgument, rawMessage: 'items has 501 items; at most 500 per request' });
  });

  it('reports a batch item with an unset label operator as INVALID and ingests the rest', async () => {
    const { results } = await tracker.ingestItems({ items: [{ ...item, externalId: 'RPC-2', requiredLabels: [{ key: 'os', values: ['linux'] }] }, { ...item, externalId: 'RPC-3' }] });
    expect(results.map((r) => [r.externalId, IngestOutcome[r.outcome], r.reason])).toEqual([
      ['RPC-2', 'INVALID', 'items[0].required_labels[0].operator must be set to a known LABEL_OPERATOR_* value'],
      ['RPC-3', 'CREATED', ''],
    ]);
  });

  it('stores one job for one item however many ingest it at once', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => tracker.ingestItem({ item: { ...item, externalId: 'RACE-1' } })));
    expect(results.map((r) => IngestOutcome[r.result!.outcome]).sort()).toEqual(['CREATED', ...Array(11).fill('UNCHANGED')]);
    expect(new Set(results.map((r) => r.result!.job!.id)).size).toBe(1);
    expect((await jobs.listJobs({ productId: 'rpc', pageSize: 100 })).jobs.filter((j) => j.externalId === 'RACE-1')).toHaveLength(1);
  });
});

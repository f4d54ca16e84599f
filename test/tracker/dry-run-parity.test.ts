/**
 * A dry run decides as the real ingest does. Over the same stored state, for every outcome —
 * created, updated, unchanged, skipped because the job has ended, skipped because a plain SubmitJob
 * holds the key `tracker:<id>` — the dry run reports what the real ingest then does (outcome, job,
 * reason), on a real coordinator over SQLite and over the Cosmos test server; also when one batch
 * repeats an item.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { IngestOutcome, TrackerService, type IngestResult } from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import { startCosmosTestServer, type CosmosTestServer } from '../replicas/cosmos-test-server.js';
import { startReplica } from '../replicas/support.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PRODUCT = 'parity';
const item = (externalId: string, title: string) => ({ externalId, title, productId: PRODUCT, commandTemplate: ['./triage.sh', '{{external_id}}'] });

/**
 * What a report says about each item. Not the job's revision or times: the dispatcher may record a
 * job's wait ("no connected factory") between the dry run and the real ingest.
 */
const outcomes = (results: IngestResult[]) => results.map((r) => ({ externalId: r.externalId, outcome: IngestOutcome[r.outcome], reason: r.reason, jobId: r.job?.id, title: r.job?.title }));

describe.each(['sqlite', 'cosmos'] as const)('dry run and real ingest over %s', (store) => {
  let cosmos: CosmosTestServer | undefined;
  let server: TestServer;
  let jobs: Client<typeof JobService>;
  let tracker: Client<typeof TrackerService>;

  beforeAll(async () => {
    if (store === 'cosmos') {
      cosmos = await startCosmosTestServer();
      server = await startReplica(cosmos, cosmos.freshDatabase());
    } else {
      server = await startTestServer();
    }
    const transport = createGrpcTransport({ baseUrl: server.grpcUrl });
    jobs = createClient(JobService, transport);
    tracker = createClient(TrackerService, transport);
  });
  afterAll(async () => {
    await server?.stop();
    await cosmos?.close();
  });

  it('report the same outcome for every case, round after round', async () => {
    // The state: two items ingested, one of them ended, and a plain job holding a tracker key.
    const seeded = await tracker.ingestItems({ items: [item('UPD-1', 'old title'), item('SAME-1', 'same'), item('DONE-1', 'old title')] });
    expect(seeded.results.map((r) => r.outcome)).toEqual([IngestOutcome.CREATED, IngestOutcome.CREATED, IngestOutcome.CREATED]);
    const ended = seeded.results[2]!.job!;
    await jobs.cancelJob({ jobId: ended.id, reason: 'won’t do' });
    const plain = (await jobs.submitJob({ productId: PRODUCT, command: ['true'], idempotencyKey: 'tracker:PLAIN-1' })).job!;

    const items = [item('NEW-1', 'new'), item('UPD-1', 'new title'), item('SAME-1', 'same'), item('DONE-1', 'new title'), item('PLAIN-1', 'plain')];
    const dry = outcomes((await tracker.ingestItems({ items, dryRun: true })).results);
    const real = outcomes((await tracker.ingestItems({ items })).results);
    expect(dry).toEqual(real);
    expect(real.map((r) => r.outcome)).toEqual(['CREATED', 'UPDATED', 'UNCHANGED', 'SKIPPED', 'SKIPPED']);
    expect(real[1]).toMatchObject({ title: 'new title' });
    expect(real[3]!.reason).toBe(`job ${ended.id} is cancelled; not updated (it changes only while queued or blocked)`);
    expect(real[4]).toMatchObject({ jobId: plain.id, reason: `idempotency key tracker:PLAIN-1 is taken by job ${plain.id}, which was not made by tracker ingest` });

    // Again over the state the real ingest left: what was created or updated is now unchanged.
    const dryAgain = outcomes((await tracker.ingestItems({ items, dryRun: true })).results);
    const realAgain = outcomes((await tracker.ingestItems({ items })).results);
    expect(dryAgain).toEqual(realAgain);
    expect(realAgain.map((r) => r.outcome)).toEqual(['UNCHANGED', 'UNCHANGED', 'UNCHANGED', 'SKIPPED', 'SKIPPED']);
  });

  it('agree when one batch repeats an item: the later copy is decided on what the earlier one stores', async () => {
    const items = [item('TWICE-1', 'first'), item('TWICE-1', 'first'), item('TWICE-2', 'first'), item('TWICE-2', 'second')];
    const dry = outcomes((await tracker.ingestItems({ items, dryRun: true })).results);
    const real = outcomes((await tracker.ingestItems({ items })).results);
    expect(dry).toEqual(real);
    expect(real.map((r) => r.outcome)).toEqual(['CREATED', 'UNCHANGED', 'CREATED', 'UPDATED']);
    expect(real[3]).toMatchObject({ title: 'second' });
  });

  it('agree for one item too (IngestItem), including a key held by a plain job', async () => {
    const plain = (await jobs.submitJob({ productId: PRODUCT, command: ['true'], idempotencyKey: 'tracker:PLAIN-2' })).job!;
    const dry = await tracker.ingestItem({ item: item('PLAIN-2', 'plain'), dryRun: true });
    const real = await tracker.ingestItem({ item: item('PLAIN-2', 'plain') });
    expect(outcomes([dry.result!])).toEqual(outcomes([real.result!]));
    expect(real.result).toMatchObject({ outcome: IngestOutcome.SKIPPED, job: { id: plain.id } });
  });
});

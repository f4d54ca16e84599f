/**
 * Three coordinator replicas (real `gigafactory serve` processes) over one Cosmos test server in
 * this process, with agents spread across them, each agent listing all three replicas (its own
 * first). Jobs are submitted round-robin to the replicas, so most run on a factory connected to a
 * replica that did not take the submit: the replicas find each other's work by polling the store.
 * Mid-run one replica is killed with SIGKILL: nothing is lost, its agents move to another replica
 * and resume, every job succeeds exactly once, and the live replicas take over its partitions of the
 * job space (docs/scaling-out.md, "Dividing the work") within the stated bound. Later a fourth
 * replica joins with agents of its own and takes its share of the partitions.
 *
 * With COSMOS_TEST_DELAY_MS=6 every Cosmos round trip goes through test/support/cosmos-proxy.ts
 * with that delay, as within an Azure region.
 *
 * REPLICA_TEST_JOBS sets the number of jobs (default below); see docs/scaling-out.md for timings.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { systemClock } from '../../src/coordinator/clock.js';
import { JobFeed } from '../../src/coordinator/job-feed.js';
import { Jobs } from '../../src/coordinator/jobs.js';
import { PARTITION_TIMING } from '../../src/coordinator/partition-owner.js';
import type { JobRecord } from '../../src/domain/job.js';
import { openCosmosStore, type CosmosJobStore } from '../../src/store/cosmos/index.js';
import { spawnAgent, spawnCoordinator, type CoordinatorProcess, type ManagedProcess } from '../support/processes.js';
import { startCosmosTestServer, type CosmosTestServer } from './cosmos-test-server.js';

const JOBS = Number(process.env.REPLICA_TEST_JOBS ?? 300);
const REPLICAS = 3;
const AGENTS_PER_REPLICA = 2;
const SLOTS = 4;

const root = mkdtempSync(join(tmpdir(), 'gigafactory-replicas-'));
const processes: ManagedProcess[] = [];
let cosmos: CosmosTestServer;
let store: CosmosJobStore;
let database: string;

beforeAll(async () => {
  cosmos = await startCosmosTestServer();
  database = cosmos.freshDatabase();
  store = await openCosmosStore({ endpoint: cosmos.endpoint, key: cosmos.key, database }); // the test's own view
});
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await store?.close();
  await cosmos?.close();
  rmSync(root, { recursive: true, force: true });
});

function replicaEnv(): Record<string, string> {
  return {
    GIGAFACTORY_STORE: 'cosmos',
    GIGAFACTORY_COSMOS_ENDPOINT: cosmos.endpoint,
    GIGAFACTORY_COSMOS_KEY: cosmos.key,
    GIGAFACTORY_COSMOS_DATABASE: database,
    GIGAFACTORY_LEASE_TTL_MS: '4000',
    GIGAFACTORY_OFFER_TIMEOUT_MS: '4000',
    GIGAFACTORY_HEARTBEAT_INTERVAL_MS: '500',
    GIGAFACTORY_HEARTBEAT_TIMEOUT_MS: '4000',
    GIGAFACTORY_REAPER_INTERVAL_MS: '1000',
    GIGAFACTORY_RETRY_BASE_MS: '50',
  };
}

/** Partitions each replica holds, from its /metrics (gigafactory_partitions_held). */
async function partitionsHeld(replicas: readonly CoordinatorProcess[]): Promise<number[]> {
  return Promise.all(
    replicas.map(async (r) => {
      const text = await (await fetch(`http://${r.httpAddress}/metrics`)).text();
      return Number(/^gigafactory_partitions_held (\S+)$/m.exec(text)?.[1] ?? NaN);
    }),
  );
}

/** Every partition held, in fair shares (⌊64/n⌋ or one more). */
function fair(held: readonly number[]): boolean {
  return held.reduce((a, b) => a + b, 0) === 64 && Math.max(...held) - Math.min(...held) <= 1;
}

/**
 * The stated bound for a dead replica's partitions (docs/scaling-out.md): its membership row lapses
 * at most memberTtlMs after the kill, the others see that on their next step (stepMs) and take their
 * shares in it; one fast step for good measure, and slack for this shared machine.
 */
const RETAKE_BOUND_MS = PARTITION_TIMING.memberTtlMs + PARTITION_TIMING.stepMs + PARTITION_TIMING.fastStepMs + 10_000;
/** A joining replica: the holders release on their next step, it takes on its next fast step. */
const JOIN_BOUND_MS = PARTITION_TIMING.stepMs + 2 * PARTITION_TIMING.fastStepMs + 5_000;

async function countByStage(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const c of await store.countJobs()) counts[c.stage] = (counts[c.stage] ?? 0) + c.count;
  return counts;
}

async function allJobs(): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  let page = await store.listJobs({ productId: 'replicas', limit: 500 });
  jobs.push(...page.jobs);
  while (page.next) {
    page = await store.listJobs({ productId: 'replicas', limit: 500, after: page.next });
    jobs.push(...page.jobs);
  }
  return jobs;
}

it(`runs ${JOBS} jobs on three replicas, each exactly once, through kill -9 of one replica`, async () => {
  const started = Date.now();
  const replicas: CoordinatorProcess[] = await Promise.all(
    Array.from({ length: REPLICAS }, (_, r) => spawnCoordinator({ dataDir: join(root, `replica-${r}`), env: replicaEnv() })),
  );
  processes.push(...replicas);
  const addresses = replicas.map((r) => r.grpcAddress);
  // Agent i lives on replica i % 3 and lists the others after it.
  const agents = await Promise.all(
    Array.from({ length: REPLICAS * AGENTS_PER_REPLICA }, (_, i) => {
      const home = i % REPLICAS;
      const list = [...addresses.slice(home), ...addresses.slice(0, home)].join(',');
      return spawnAgent({ coordinator: list, id: `agent-${i}`, slots: SLOTS, workDir: join(root, `agent-${i}`) });
    }),
  );
  processes.push(...agents);
  await expect.poll(() => partitionsHeld(replicas), { timeout: 30_000, interval: 200 }).toSatisfy(fair);
  const ready = Date.now();

  const clients: Client<typeof JobService>[] = addresses.map((a) => createClient(JobService, createGrpcTransport({ baseUrl: `http://${a}` })));
  const victim = 1;
  let killedAt = 0;
  let submittedCount = 0;
  const submitAll = (async () => {
    const next = (): number | null => (submittedCount < JOBS ? submittedCount++ : null);
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        for (let i = next(); i !== null; i = next()) {
          // Round-robin over the live replicas (a real client would sit behind a load balancer).
          const r = killedAt && i % REPLICAS === victim ? (victim + 1) % REPLICAS : i % REPLICAS;
          // Every tenth job runs a little longer, so the killed replica's factories have work to resume.
          const command = i % 10 === 0 ? ['sleep', '0.2'] : ['true'];
          const request = { productId: 'replicas', command, idempotencyKey: `job-${i}` };
          try {
            await clients[r]!.submitJob(request);
          } catch (err) {
            // A submit in flight to the victim when it died: retried on a live replica, as a client
            // behind a load balancer would; the idempotency key makes the retry safe.
            if (r !== victim) throw err;
            await clients[(victim + 1) % REPLICAS]!.submitJob(request);
          }
        }
      }),
    );
  })();

  // Progress from the agents' own log lines: polling the store would make the test server scan it.
  const laterAgents: ManagedProcess[] = [];
  const ended = (): number => [...agents, ...laterAgents].reduce((n, a) => n + a.lines.filter((l) => l.msg === 'job ended').length, 0);
  // Kill one replica once a third of the jobs are done.
  await expect.poll(ended, { timeout: 90_000, interval: 100 }).toBeGreaterThanOrEqual(Math.ceil(JOBS / 3));
  await replicas[victim]!.kill('SIGKILL');
  killedAt = Date.now();
  const live = replicas.filter((_, r) => r !== victim);
  await expect.poll(() => partitionsHeld(live), { timeout: RETAKE_BOUND_MS, interval: 100 }).toSatisfy(fair);
  const retakenMs = Date.now() - killedAt;

  // A fourth replica joins with two agents of its own, and takes its share of the partitions.
  const joiner = await spawnCoordinator({ dataDir: join(root, 'replica-joined'), env: replicaEnv() });
  processes.push(joiner);
  const joinedAt = Date.now();
  const joinerAgents = await Promise.all(
    [0, 1].map((k) => spawnAgent({ coordinator: [joiner.grpcAddress, ...live.map((r) => r.grpcAddress)].join(','), id: `agent-joined-${k}`, slots: SLOTS, workDir: join(root, `agent-joined-${k}`) })),
  );
  processes.push(...joinerAgents);
  laterAgents.push(...joinerAgents);
  await expect.poll(() => partitionsHeld([...live, joiner]), { timeout: JOIN_BOUND_MS, interval: 100 }).toSatisfy(fair);
  const rebalancedMs = Date.now() - joinedAt;
  const joinerJobs = 30;
  const joinerClient = createClient(JobService, createGrpcTransport({ baseUrl: `http://${joiner.grpcAddress}` }));
  const joinerSubmits = Array.from({ length: joinerJobs }, (_, k) => joinerClient.submitJob({ productId: 'replicas', command: ['true'], idempotencyKey: `joined-${k}` }));
  await submitAll;
  await Promise.all(joinerSubmits);
  await expect.poll(ended, { timeout: 120_000, interval: 100 }).toBeGreaterThanOrEqual(JOBS + joinerJobs);
  await expect.poll(async () => (await countByStage()).succeeded ?? 0, { timeout: 30_000, interval: 500 }).toBe(JOBS + joinerJobs);
  const finished = Date.now();

  const jobs = await allJobs();
  expect(jobs).toHaveLength(JOBS + joinerJobs);
  const wrong = jobs.filter((j) => j.stage !== 'succeeded' || j.attempts.filter((a) => a.outcome === 'succeeded').length !== 1);
  expect(wrong.map((j) => ({ id: j.id, stage: j.stage, attempts: j.attempts }))).toEqual([]);

  // The killed replica's agents moved to another replica and said hello there.
  const moved = agents.filter((_, i) => i % REPLICAS === victim);
  for (const agent of moved) {
    const line = await agent.waitFor((l) => l.msg === 'connected' && l.coordinator !== addresses[victim]);
    expect(addresses).toContain(line.coordinator);
  }
  // Jobs were spread: every live replica's factories ran some.
  const byFactory = new Map<string, number>();
  for (const job of jobs) {
    const factory = job.attempts.find((a) => a.outcome === 'succeeded')!.factoryId;
    byFactory.set(factory, (byFactory.get(factory) ?? 0) + 1);
  }
  expect(byFactory.size).toBeGreaterThanOrEqual(REPLICAS * AGENTS_PER_REPLICA - 1);
  // The joined replica's own agents ran work (its submits land in its partitions).
  expect(joinerAgents.reduce((n, a) => n + a.lines.filter((l) => l.msg === 'job ended').length, 0)).toBeGreaterThan(0);

  // The Cosmos key reached the replicas through the environment and never a log line.
  for (const replica of replicas) expect(JSON.stringify(replica.lines)).not.toContain(cosmos.key);

  const retried = jobs.filter((j) => j.attempts.length > 1).length;
  const raced = replicas.flatMap((r) => r.lines.filter((l) => l.msg.startsWith('reaper raced'))).length;
  const resumed = replicas.filter((_, r) => r !== victim).flatMap((r) => r.lines.filter((l) => l.msg === 'factory connected' && Number(l.resuming) > 0)).length;
  console.log(
    `replicas: ${JOBS} jobs, ${REPLICAS} replicas, ${agents.length} agents x ${SLOTS} slots; ` +
      `start-up ${ready - started} ms, run ${finished - ready} ms (${((JOBS * 1000) / (finished - ready)).toFixed(0)} jobs/s); ` +
      `killed replica ${victim} at ${killedAt - ready} ms, its partitions retaken in ${retakenMs} ms (bound ${RETAKE_BOUND_MS} ms), ` +
      `a replica joined and held its share after ${rebalancedMs} ms (bound ${JOIN_BOUND_MS} ms), ${resumed} sessions resumed leases elsewhere, ` +
      `${retried} jobs needed a second lease, ${raced} reaper passes raced; per factory ${JSON.stringify(Object.fromEntries(byFactory))}; store ${JSON.stringify((await countByStage()))}`,
  );
}, 240_000);

it('a replica notices a job submitted on another replica within the poll back-off', async () => {
  // This process is the other replica: it stores the job, and no coordinator hears of it but through the store.
  const elsewhere = new Jobs(store, new JobFeed(), systemClock);
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // let every replica back off to its idle poll
    const { job } = await elsewhere.submit(
      { productId: 'pickup', title: '', command: ['true'], env: {}, requiredLabels: [], priority: 0, idempotencyKey: '', maxAttempts: 0, timeoutMs: 0 },
      'test',
    );
    await expect.poll(async () => (await store.getJob(job.id))?.stage, { timeout: 10_000, interval: 20 }).toBe('succeeded');
    const stored = (await store.getJob(job.id))!;
    delays.push(stored.attempts[0]!.offeredAt - stored.createdAt);
  }
  console.log(`cross-replica pickup (stored elsewhere → offered, idle replicas): ${delays.join(', ')} ms`);
}, 60_000);

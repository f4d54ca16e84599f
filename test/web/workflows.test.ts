/**
 * The control plane's workflow pages end to end: Debian's Chromium against a real coordinator (in
 * this process) and real agent processes. An operator ships a reviewed job, rejects one with a
 * reason and requeues it, follows a parent and its children in the workflow graph as their stages
 * change colour, sees a preemption on the victim's page, and pauses a product on the budgets page
 * (its queued jobs say why and wait) and resumes it (they run). Screenshots go to
 * test-artifacts/screenshots/.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { BudgetPeriod } from '../../gen/ts/gigafactory/fleet/v1/budget_pb.js';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { JobStage, LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { forceRpc, launchBrowser, screenshot, signIn, submitThroughForm, type TestBrowser } from '../support/browser.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

const CI = [{ key: 'pool', operator: LabelOperator.EQUALS, values: ['ci'] }];
const SOLO = [{ key: 'pool', operator: LabelOperator.EQUALS, values: ['solo'] }];

let server: TestServer;
let agents: ManagedProcess[] = [];
let browser: TestBrowser;
let page: Page;
let jobs: Client<typeof JobService>;
let admin: Client<typeof AdminService>;
let workDir: string;
let operatorKey: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'gigafactory-web-workflows-'));
  server = await startTestServer({ preemptionGraceMs: 2_000 });
  // Loopback development mode: the test's own calls need no key; the browser signs in with one.
  const transport = createConnectTransport({ baseUrl: server.httpUrl, httpVersion: '1.1' });
  jobs = createClient(JobService, transport);
  admin = createClient(AdminService, transport);
  operatorKey = (await admin.createApiKey({ name: 'release-manager', role: ApiKeyRole.OPERATOR })).key;
  let launched: TestBrowser;
  [agents, launched] = await Promise.all([
    Promise.all([
      spawnAgent({ coordinator: server.grpc.address, id: 'review-box', slots: 2, workDir: join(workDir, 'review-box'), labels: ['pool=ci'] }),
      spawnAgent({ coordinator: server.grpc.address, id: 'solo-01', slots: 1, workDir: join(workDir, 'solo-01'), labels: ['pool=solo'] }),
    ]),
    launchBrowser(),
  ]);
  browser = launched;
  page = browser.page;
  await signIn(page, server.httpUrl, operatorKey);
});

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && page) await screenshot(page, `failed-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(agents.map((a) => a.kill()));
  await server?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const badge = (p: Page) => p.locator('.job-header .badge');

async function reviewedJob(title: string): Promise<string> {
  const { job } = await jobs.submitJob({ productId: 'web-shop', title, command: ['node', '-e', 'console.log("diff: 3 files changed, 41 insertions")'], requiredLabels: CI, requireReview: true });
  return job!.id;
}

describe('review: ship, reject, requeue', () => {
  it('submits a job held for review from the Jobs page and ships it from its page', async () => {
    const jobId = await submitThroughForm(page, server.httpUrl, {
      product: 'web-shop',
      title: 'Upgrade checkout to Preact 10.27',
      command: `node -e 'console.log("diff: 3 files changed, 41 insertions")'`,
      labels: 'pool=ci',
      requireReview: true,
    });
    await badge(page).getByText('Awaiting review').waitFor();
    expect((await jobs.getJob({ jobId })).job!.requireReview).toBe(true);
    await page.locator('.log-line', { hasText: 'diff: 3 files changed' }).waitFor();
    await screenshot(page, '15-job-awaiting-review');
    await page.getByRole('button', { name: 'Ship' }).click();
    const confirm = page.getByRole('form', { name: 'Ship this job' });
    await confirm.locator('input[name=reason]').fill('looks good, reviewed the diff');
    await confirm.getByRole('button', { name: 'Ship' }).click();
    await badge(page).getByText('Shipped').waitFor();
    await page.locator('.timeline-item', { hasText: 'looks good, reviewed the diff' }).waitFor();
    expect(await page.locator('.timeline-item').first().textContent()).toContain('release-manager');
    // Shipped is final: nothing left to do with it.
    expect(await page.locator('.job-actions button').allTextContents()).toEqual(['Run again']);
    expect((await jobs.getJob({ jobId })).job!.stage).toBe(JobStage.SHIPPED);
    await screenshot(page, '16-job-shipped');
  });

  it('rejects a job only with a reason, then requeues it to run again', async () => {
    const jobId = await reviewedJob('Rewrite cart totals in WebAssembly');
    await page.goto(`${server.httpUrl}/jobs/${jobId}`);
    await badge(page).getByText('Awaiting review').waitFor();
    await page.getByRole('button', { name: 'Reject' }).click();
    const confirm = page.getByRole('form', { name: 'Reject this job' });
    await confirm.getByRole('button', { name: 'Reject' }).click();
    await confirm.getByRole('alert').getByText('Say why the work is rejected: the reason is recorded on the job.').waitFor();
    expect((await jobs.getJob({ jobId })).job!.stage).toBe(JobStage.AWAITING_REVIEW);
    await confirm.locator('input[name=reason]').fill('breaks Safari 16 checkout');
    await screenshot(page, '17-job-reject-confirm');
    await confirm.getByRole('button', { name: 'Reject' }).click();
    await badge(page).getByText('Rejected').waitFor();
    await page.locator('.timeline-item', { hasText: 'breaks Safari 16 checkout' }).waitFor();
    await screenshot(page, '18-job-rejected');

    await page.getByRole('button', { name: 'Requeue' }).click();
    const requeue = page.getByRole('form', { name: 'Requeue this job' });
    await requeue.locator('input[name=reason]').fill('fixed the Safari polyfill');
    await requeue.getByRole('button', { name: 'Requeue' }).click();
    // It runs again (a second attempt with a new epoch) and waits for review once more.
    await page.locator('.attempts-table tbody tr').nth(1).waitFor();
    await badge(page).getByText('Awaiting review').waitFor();
    expect(await page.locator('.attempts-table tbody tr').first().locator('td').first().textContent()).toBe('2');
    await page.locator('.timeline-item', { hasText: 'fixed the Safari polyfill' }).waitFor();
  });
});

describe('workflow graph', () => {
  it('draws a parent with its children and dependencies, recolours them live, and links to each job', async () => {
    const { job: parent } = await jobs.submitJob({ productId: 'web-shop', title: 'Release web-shop 1.4', command: ['node', '-e', 'console.log("tagging v1.4.0")'], requiredLabels: CI, completeWithChildren: true });
    const sleep = (ms: number, text: string) => ['node', '-e', `console.log(${JSON.stringify(text)}); setTimeout(() => {}, ${ms})`];
    const { children } = await jobs.addChildren({
      parentId: parent!.id,
      children: [
        { productId: 'web-shop', title: 'Build bundle', idempotencyKey: 'build', command: sleep(1_500, 'vite build'), requiredLabels: CI },
        { productId: 'web-shop', title: 'Unit tests', idempotencyKey: 'unit', dependsOnKeys: ['build'], command: sleep(3_000, 'vitest run'), requiredLabels: CI },
        { productId: 'web-shop', title: 'Browser tests (Safari)', idempotencyKey: 'e2e', dependsOnKeys: ['build'], command: ['true'], requiredLabels: [{ key: 'browser', operator: LabelOperator.EQUALS, values: ['safari'] }] },
        { productId: 'web-shop', title: 'Publish to CDN', idempotencyKey: 'publish', dependsOnKeys: ['unit', 'e2e'], command: ['true'], requiredLabels: CI },
      ],
    });
    const [build, unit, e2e, publish] = children.map((c) => c.id);
    await page.goto(`${server.httpUrl}/jobs/${parent!.id}`);
    const graph = page.locator('#workflow');
    const node = (id: string) => graph.locator(`.dag-node[data-job-id="${id}"]`);
    await expect.poll(() => graph.locator('.dag-node').count()).toBe(5);
    // Layered left to right: parent, then build, then the tests, then publish.
    const x = async (id: string) => Number(await node(id).locator('rect.dag-box').getAttribute('x'));
    expect(await x(parent!.id)).toBeLessThan(await x(build!));
    expect(await x(build!)).toBeLessThan(await x(unit!));
    expect(await x(unit!)).toBe(await x(e2e!));
    expect(await x(e2e!)).toBeLessThan(await x(publish!));
    expect(await graph.locator('.dag-edge-child[data-edge]').count()).toBe(4);
    expect(await graph.locator('.dag-edge-depends_on[data-edge]').count()).toBe(4);
    expect(await node(parent!.id).getAttribute('class')).toContain('dag-node-current');

    // The stream recolours the graph without a reload: unit tests run, then succeed.
    await node(unit!).and(page.locator('[data-stage=running]')).waitFor();
    await node(e2e!).and(page.locator('[data-stage=queued]')).waitFor();
    await node(publish!).and(page.locator('[data-stage=blocked]')).waitFor();
    await screenshot(page, '19-workflow-running');
    await node(unit!).and(page.locator('[data-stage=succeeded]')).waitFor({ timeout: 30_000 });
    expect(await node(build!).getAttribute('data-stage')).toBe('succeeded');
    await screenshot(page, '20-workflow');

    // A node is a link to its job, whose page shows the same graph.
    await node(e2e!).click();
    await page.waitForURL(`${server.httpUrl}/jobs/${e2e}`);
    await page.locator('.banner', { hasText: /no connected factory can run this job/i }).waitFor();
    await expect.poll(() => page.locator('#workflow .dag-node').count()).toBe(5);
    expect(await page.locator(`#workflow .dag-node[data-job-id="${e2e}"]`).getAttribute('class')).toContain('dag-node-current');
    await jobs.cancelJob({ jobId: parent!.id, reason: 'test over' });
  });

  it('shows no graph for a job on its own', async () => {
    const { job } = await jobs.submitJob({ productId: 'web-shop', title: 'Standalone lint', command: ['true'], requiredLabels: CI });
    await page.goto(`${server.httpUrl}/jobs/${job!.id}`);
    await badge(page).getByText('Succeeded').waitFor();
    await page.locator('.attempts-table').waitFor();
    expect(await page.locator('#workflow').count()).toBe(0);
  });
});

describe('preemption', () => {
  it("shows the victim's preempted attempt and its return to the queue", async () => {
    const ticker = 'console.log("rebuilding search index"); let n = 0; setInterval(() => console.log("shard " + ++n + " indexed"), 300)';
    const { job: low } = await jobs.submitJob({ productId: 'search', title: 'Nightly index rebuild', command: ['node', '-e', ticker], requiredLabels: SOLO, priority: 0 });
    await page.goto(`${server.httpUrl}/jobs/${low!.id}`);
    await page.locator('.log-line', { hasText: 'shard 2 indexed' }).waitFor();
    expect(await badge(page).getAttribute('data-stage')).toBe('running');

    // The only factory that can run either is full: the urgent job takes the slot.
    const { job: high } = await jobs.submitJob({ productId: 'search', title: 'Hotfix: reindex product 42', command: ['node', '-e', 'setInterval(() => {}, 1000)'], requiredLabels: SOLO, priority: 50 });
    const attempt = page.locator('.attempts-table tbody tr').first();
    await attempt.locator('.badge', { hasText: 'Preempted' }).waitFor({ timeout: 30_000 });
    await badge(page).getByText('Queued').waitFor();
    expect(await attempt.textContent()).toContain('solo-01');
    await page.locator('.timeline-item', { hasText: /preempt/i }).first().waitFor();
    await waitForStage(jobs, high!.id, JobStage.RUNNING);
    await screenshot(page, '21-job-preempted');
    await jobs.cancelJob({ jobId: high!.id });
    await jobs.cancelJob({ jobId: low!.id });
  });
});

describe('budgets', () => {
  /** A job that reports `cost` through the agent's cost file. */
  const costly = (title: string, cost: number) =>
    jobs.submitJob({ productId: 'ml-train', title, command: ['node', '-e', `require("fs").writeFileSync(process.env.GIGAFACTORY_COST_FILE, "${cost}")`], requiredLabels: CI, estimatedCost: cost });

  it('lets an admin set a budget from the page, refusing a bad limit in a sentence', async () => {
    const adminKey = (await admin.createApiKey({ name: 'finops-admin', role: ApiKeyRole.ADMIN })).key;
    await signIn(page, server.httpUrl, adminKey, '/budgets');
    await page.getByRole('button', { name: 'Set a budget' }).click();
    const form = page.getByRole('form', { name: 'Set a budget' });
    await form.locator('input[name=product]').fill('ml-train');
    await form.locator('input[name=costLimit]').fill('-5');
    await form.getByRole('button', { name: 'Save budget' }).click();
    await form.getByRole('alert').getByText('The cost limit must be a number, 0 or more (0 or empty: no limit).').waitFor();
    await form.locator('input[name=costLimit]').fill('40');
    await form.locator('select[name=period]').selectOption({ label: 'Week (Monday, UTC)' });
    await form.getByRole('button', { name: 'Save budget' }).click();
    await page.getByRole('status').getByText('ml-train’s budget was saved: 40.00 per week.').waitFor();
    await page.locator('tr[data-product="ml-train"]').getByText('40.00 / week').waitFor();
    const budget = (await admin.getBudget({ productId: 'ml-train' })).budget!;
    expect(budget).toMatchObject({ costLimit: 40, period: BudgetPeriod.WEEK, updateActor: 'finops-admin' });

    // An operator may pause but not change limits.
    await signIn(page, server.httpUrl, operatorKey, '/budgets');
    const set = page.getByRole('button', { name: 'Set a budget' });
    await expect.poll(() => set.isDisabled()).toBe(true);
    expect(await set.getAttribute('title')).toBe('Needs the admin role; the key "release-manager" is an operator.');
  });

  it('shows spend against the limit with a burndown and spend per job; pausing holds queued jobs with the reason, resuming runs them', async () => {
    for (const [title, cost] of [['Fine-tune ranker v7', 9.5], ['Evaluate ranker v7', 2.25], ['Distil ranker to small', 4]] as const) {
      const { job } = await costly(title, cost);
      await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
    }

    await page.goto(`${server.httpUrl}/budgets`);
    const row = page.locator('tr[data-product="ml-train"]');
    await row.getByText('15.75').waitFor();
    expect(await row.textContent()).toContain('of 40.00');
    expect(await row.locator('.pill').textContent()).toBe('Dispatching');
    const detail = page.locator('[data-budget="ml-train"]');
    await detail.locator('.job-spend li').first().getByText('Fine-tune ranker v7').waitFor();
    expect(await detail.locator('.job-spend li').count()).toBe(3);
    // A bar for every day of the week; today's has the spend.
    expect(await detail.locator('.burndown-day').count()).toBe(7);
    expect(await detail.locator(`.burndown-day[data-date="${new Date().toISOString().slice(0, 10)}"] .burndown-bar`).count()).toBe(1);
    await screenshot(page, '22-budgets');

    await row.getByRole('button', { name: 'Pause' }).click();
    const confirm = page.getByRole('form', { name: 'Pause ml-train' });
    await confirm.getByRole('button', { name: 'Pause' }).click();
    await confirm.getByRole('alert').getByText('Say why the product is paused: its queued jobs show the reason.').waitFor();
    await confirm.locator('input[name=reason]').fill('quarterly GPU cap under review');
    await confirm.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('status').getByText('ml-train is paused: its queued jobs wait until it is resumed.').waitFor();
    await row.locator('.pill', { hasText: 'Paused' }).waitFor();
    await detail.locator('.banner', { hasText: 'Paused by release-manager' }).getByText(/quarterly GPU cap under review/).waitFor();
    await screenshot(page, '23-budgets-paused');

    // A job submitted now waits, and says why.
    const { job: held } = await costly('Fine-tune ranker v8', 3);
    await page.goto(`${server.httpUrl}/jobs/${held!.id}`);
    await page.locator('.page > .banner', { hasText: 'Product ml-train is paused: quarterly GPU cap under review.' }).waitFor();
    expect(await badge(page).getAttribute('data-stage')).toBe('queued');
    expect((await jobs.getJob({ jobId: held!.id })).job!.attempts).toHaveLength(0);
    await screenshot(page, '24-job-held-by-budget');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Budgets' }).click();
    await row.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('form', { name: 'Resume ml-train' }).getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('status').getByText('ml-train was resumed: its queued jobs are dispatched again.').waitFor();
    await row.locator('.pill', { hasText: 'Dispatching' }).waitFor();
    await waitForStage(jobs, held!.id, JobStage.SUCCEEDED);
    await row.getByText('18.75').waitFor();
  });

  it('keeps a viewer from pausing: the button is disabled with the role needed, and the RPC is refused', async () => {
    const viewerKey = (await admin.createApiKey({ name: 'finance-viewer', role: ApiKeyRole.VIEWER })).key;
    await signIn(page, server.httpUrl, viewerKey, '/budgets');
    const pause = page.locator('tr[data-product="ml-train"]').getByRole('button', { name: 'Pause' });
    await expect.poll(() => pause.isDisabled()).toBe(true);
    expect(await pause.getAttribute('title')).toBe('Needs the operator role; the key "finance-viewer" is a viewer.');
    const forced = await forceRpc(page, 'AdminService/PauseBudget', { productId: 'ml-train', reason: 'forced' });
    expect(forced).toMatchObject({ status: 403, code: 'permission_denied' });
    expect(forced.message).toContain('AdminService/PauseBudget needs operator or above');
    expect((await admin.getBudget({ productId: 'ml-train' })).budget!.paused).toBe(false);
    await signIn(page, server.httpUrl, operatorKey);
  });
});

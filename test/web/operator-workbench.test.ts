/**
 * The operator's everyday tools in the control plane (issue 21), end to end: Debian's Chromium
 * against a real coordinator (in this process, loopback development mode) and a real agent process.
 * A job page open during a requeue follows the new attempt's output; the rest of the file covers the
 * Jobs table's search, sorting and bulk actions, "run again", the job's history and scores, API keys,
 * log line links and the layout at 1280 px and 390 px. Screenshots go to test-artifacts/screenshots/.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobStage, LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { launchBrowser, screenshot, type TestBrowser } from '../support/browser.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

const AGENT_ID = 'workbench-01';

let server: TestServer;
let agent: ManagedProcess;
let browser: TestBrowser;
let page: Page;
let jobs: Client<typeof JobService>;
let workDir: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'gigafactory-web-workbench-'));
  server = await startTestServer();
  const transport = createConnectTransport({ baseUrl: server.httpUrl, httpVersion: '1.1' });
  jobs = createClient(JobService, transport);
  [agent, browser] = await Promise.all([
    spawnAgent({ coordinator: server.grpc.address, id: AGENT_ID, slots: 2, workDir, labels: ['pool=ci'] }),
    launchBrowser(),
  ]);
  page = browser.page;
});

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && page) await screenshot(page, `failed-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await agent?.kill();
  await server?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('a job page', () => {
  it('follows the output of the attempts a requeue starts, without a reload', async () => {
    const { job } = await jobs.submitJob({
      productId: 'web-shop',
      title: 'Flaky integration suite',
      command: ['node', '-e', 'console.log("run with epoch " + process.env.GIGAFACTORY_EPOCH); process.exit(1)'],
      maxAttempts: 1,
    });
    await page.goto(`${server.httpUrl}/jobs/${job!.id}`);
    await page.locator('.job-header .badge[data-stage=failed]').waitFor();
    await page.locator('.log-line', { hasText: 'run with epoch 1' }).waitFor();
    await page.locator('.log-status[data-status=complete]').waitFor();

    // Requeued elsewhere (the CLI, another tab): the open page shows the next attempt's output.
    await jobs.requeueJob({ jobId: job!.id, reason: 'retry after the fix' });
    await page.locator('.log-line', { hasText: 'run with epoch 2' }).waitFor();
    await page.locator('.log-divider', { hasText: 'epoch 2' }).waitFor();
    await page.locator('.log-status[data-status=complete]').waitFor();
    expect(await page.locator('.log-line', { hasText: 'run with epoch 1' }).count()).toBe(1);
    await screenshot(page, '20-job-requeued-output');
  });
});

/** Work no connected factory can take: it stays queued. */
const GPU = [{ key: 'gpu', operator: LabelOperator.EQUALS, values: ['h100'] }];

/** The document (and `inside`, when given) is no wider than its box: nothing scrolls sideways. */
async function expectNoHorizontalOverflow(p: Page, inside?: string): Promise<void> {
  const widths = await p.evaluate((selector) => {
    const el = selector ? document.querySelector(selector)! : document.documentElement;
    return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth };
  }, inside);
  expect(widths.scrollWidth).toBeLessThanOrEqual(widths.clientWidth);
}

describe('the Jobs table', () => {
  it('searches every job on the server, not only the page shown', async () => {
    const { job: needle } = await jobs.submitJob({ productId: 'search-demo', title: 'Rotate the signing keys', command: ['./rotate.sh', '--vault=prod'], requiredLabels: GPU });
    for (let i = 0; i < 30; i++) await jobs.submitJob({ productId: 'search-demo', title: `Filler ${i}`, command: ['true'], requiredLabels: GPU });
    await page.goto(`${server.httpUrl}/jobs`);
    await page.locator('.job-row').first().waitFor();
    // The job is on page 2 of the newest-first listing; the search finds it by its command.
    expect(await page.locator(`.job-row[data-job-id="${needle!.id}"]`).count()).toBe(0);
    await page.locator('input[name=q]').fill('VAULT=prod');
    await page.locator('input[name=q]').press('Enter');
    await page.locator('.pager', { hasText: '1 job matching “VAULT=prod”' }).waitFor();
    expect(await page.locator('.job-row').getAttribute('data-job-id')).toBe(needle!.id);
    // By a label requirement, and by product.
    await page.locator('input[name=q]').fill('gpu=h100');
    await page.locator('input[name=q]').press('Enter');
    await page.locator('.pager', { hasText: '25 jobs matching' }).waitFor();
    await screenshot(page, '21-jobs-search');
  });

  it('sorts by a column on the server, both ways, with the order in the URL', async () => {
    await jobs.submitJob({ productId: 'sorting', title: 'Urgent hotfix', command: ['true'], requiredLabels: GPU, priority: 90 });
    await jobs.submitJob({ productId: 'sorting', title: 'Background reindex', command: ['true'], requiredLabels: GPU, priority: -5 });
    await page.goto(`${server.httpUrl}/jobs?product=sorting`);
    await page.locator('.job-row').nth(1).waitFor();
    await page.locator('button[name=sort-priority]').click();
    await page.waitForURL(/sort=priority/);
    await page.locator('th[aria-sort=descending] button[name=sort-priority]').waitFor();
    await expect.poll(() => page.locator('.job-row .job-title').first().textContent()).toBe('Urgent hotfix');
    await page.locator('button[name=sort-priority]').click();
    await page.waitForURL(/dir=asc/);
    await expect.poll(() => page.locator('.job-row .job-title').first().textContent()).toBe('Background reindex');
    await screenshot(page, '22-jobs-sorted');
  });

  it('cancels and requeues selected jobs together', async () => {
    const ids: string[] = [];
    for (const title of ['Shard A', 'Shard B', 'Shard C']) ids.push((await jobs.submitJob({ productId: 'bulk', title, command: ['true'], requiredLabels: GPU })).job!.id);
    await page.goto(`${server.httpUrl}/jobs?product=bulk`);
    await page.locator('.job-row').nth(2).waitFor();
    await page.getByLabel(`Select ${ids[0]}`).check();
    await page.getByLabel(`Select ${ids[2]}`).check();
    const bar = page.getByRole('region', { name: 'Selected jobs' });
    await bar.getByText('2 jobs selected').waitFor();
    await bar.getByRole('button', { name: 'Cancel 2' }).click();
    const confirm = page.getByRole('form', { name: 'Cancel 2 jobs' });
    await confirm.locator('input[name=reason]').fill('wrong branch');
    await screenshot(page, '23-jobs-bulk-cancel');
    await confirm.getByRole('button', { name: 'Cancel 2' }).click();
    for (const id of [ids[0], ids[2]]) await page.locator(`.job-row[data-job-id="${id}"] .badge[data-stage=cancelled]`).waitFor();
    expect(await page.locator(`.job-row[data-job-id="${ids[1]}"] .badge`).getAttribute('data-stage')).toBe('queued');
    expect(await bar.count()).toBe(0);

    // Select all three: only the two cancelled ones can be requeued, only the queued one cancelled.
    await page.getByLabel('Select every job on this page').check();
    await bar.getByRole('button', { name: 'Requeue 2' }).waitFor();
    expect(await bar.getByRole('button', { name: 'Cancel 1' }).isEnabled()).toBe(true);
    await bar.getByRole('button', { name: 'Requeue 2' }).click();
    await page.getByRole('form', { name: 'Requeue 2 jobs' }).getByRole('button', { name: 'Requeue 2' }).click();
    for (const id of [ids[0], ids[2]]) await page.locator(`.job-row[data-job-id="${id}"] .badge[data-stage=queued]`).waitFor();
    expect((await jobs.getJob({ jobId: ids[0]! })).job!.stage).toBe(JobStage.QUEUED);
  });

  it('runs a job again from a form filled in from it', async () => {
    const { job } = await jobs.submitJob({
      productId: 'web-shop',
      title: 'Smoke test',
      command: ['node', '-e', 'console.log("smoke ok")'],
      requiredLabels: [{ key: 'pool', operator: LabelOperator.EQUALS, values: ['ci'] }],
      priority: 7,
      maxAttempts: 2,
    });
    await page.goto(`${server.httpUrl}/jobs/${job!.id}`);
    await page.locator('.job-header .badge[data-stage=succeeded]').waitFor();
    await page.getByRole('button', { name: 'Run again' }).click();
    await page.waitForURL(/\/jobs\?new=1&from=/);
    const form = page.getByRole('form', { name: 'Submit a job' });
    await expect.poll(() => form.locator('input[name=command]').inputValue()).toBe(`node -e 'console.log("smoke ok")'`);
    expect(await form.locator('input[name=product]').inputValue()).toBe('web-shop');
    expect(await form.locator('input[name=title]').inputValue()).toBe('Smoke test');
    expect(await form.locator('input[name=labels]').inputValue()).toBe('pool=ci');
    expect(await form.locator('input[name=priority]').inputValue()).toBe('7');
    expect(await form.locator('input[name=maxAttempts]').inputValue()).toBe('2');
    await screenshot(page, '24-run-again-form');
    // Edit before running: a new job with the edited title and the same command.
    await form.locator('input[name=title]').fill('Smoke test, again');
    await form.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/\/jobs\/job_[0-9A-Z]+$/);
    expect(page.url()).not.toContain(job!.id);
    await page.locator('.job-header .badge[data-stage=succeeded]').waitFor();
    await page.locator('.log-line', { hasText: 'smoke ok' }).waitFor();
    expect(await page.locator('.page-title').textContent()).toBe('Smoke test, again');
  });
});

describe('layout', () => {
  it('fits the Jobs table in a 1280 px window and works on a 390 px phone', async () => {
    // Long titles, ids, products and label lists: the widest rows the table meets.
    for (let i = 0; i < 6; i++) {
      await jobs.submitJob({
        productId: 'platform-infrastructure-nightly',
        title: `Rebuild the container images for every supported architecture and publish them (${i})`,
        command: ['make', 'images'],
        requiredLabels: [...GPU, { key: 'region', operator: LabelOperator.IN, values: ['eu-west-1', 'us-east-2', 'ap-southeast-1'] }],
      });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${server.httpUrl}/jobs`);
    await page.locator('.job-row').nth(5).waitFor();
    await expectNoHorizontalOverflow(page);
    await expectNoHorizontalOverflow(page, '.table-wrap');
    await screenshot(page, '25-jobs-1280');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.httpUrl}/jobs`);
    await page.locator('.job-row').nth(5).waitFor();
    await expectNoHorizontalOverflow(page);
    await expectNoHorizontalOverflow(page, '.table-wrap');
    await screenshot(page, '26-jobs-390');
    // A job's page, and the overview, fit too.
    const id = await page.locator('.job-row').first().getAttribute('data-job-id');
    await page.goto(`${server.httpUrl}/jobs/${id}`);
    await page.locator('.job-header .badge').waitFor();
    await expectNoHorizontalOverflow(page);
    await screenshot(page, '27-job-390');
    await page.goto(`${server.httpUrl}/`);
    await page.locator('.factory-card').first().waitFor();
    await expectNoHorizontalOverflow(page);
    await screenshot(page, '28-overview-390');
    await page.setViewportSize({ width: 1440, height: 900 });
  });
});

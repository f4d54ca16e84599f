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
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { JobStage, LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { launchBrowser, screenshot, type TestBrowser } from '../support/browser.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

const AGENT_ID = 'workbench-01';

let server: TestServer;
let agent: ManagedProcess;
let browser: TestBrowser;
let page: Page;
let jobs: Client<typeof JobService>;
let admin: Client<typeof AdminService>;
let workDir: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'gigafactory-web-workbench-'));
  server = await startTestServer();
  const transport = createConnectTransport({ baseUrl: server.httpUrl, httpVersion: '1.1' });
  jobs = createClient(JobService, transport);
  admin = createClient(AdminService, transport);
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

  it('shows a running job\'s cost as it is reported, its ceiling, and the reason it was stopped at it', async () => {
    const { job } = await jobs.submitJob({
      productId: 'web-shop',
      title: 'Agent run with a spend ceiling',
      command: ['sh', '-c', 'while true; do echo 1 >> "$GIGAFACTORY_COST_FILE"; sleep 1; done'],
      costCeiling: 3,
      maxAttempts: 1,
    });
    await page.goto(`${server.httpUrl}/jobs/${job!.id}`);
    const cost = page.locator('.fact[data-fact=Cost]');
    await cost.getByText('ceiling 3.00 per attempt').waitFor();
    // Live: the cost moves while the job still runs.
    await page.locator('.job-header .badge[data-stage=running]').waitFor();
    await expect.poll(async () => Number.parseFloat((await cost.locator('.fact-value').textContent()) ?? '0'), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await page.locator('.job-header .badge[data-stage=failed]').waitFor({ timeout: 60_000 });
    await page.getByText(/cost ceiling 3\.00 reached at \d+\.\d\d/).first().waitFor();
    await screenshot(page, '34-job-cost-ceiling');
  });
});

/** Work no connected factory can take: it stays queued. */
const GPU = [{ key: 'gpu', operator: LabelOperator.EQUALS, values: ['h100'] }];

/**
 * The document (and `inside`, when given) is no wider than its box: nothing scrolls sideways. A
 * failure names the first elements that stick out of the window.
 */
async function expectNoHorizontalOverflow(p: Page, inside?: string): Promise<void> {
  const widths = await p.evaluate((selector) => {
    const el = selector ? document.querySelector(selector)! : document.documentElement;
    const cw = document.documentElement.clientWidth + 1;
    const wide = Array.from(document.querySelectorAll('*'))
      .filter((e) => e.getBoundingClientRect().right > cw && e.parentElement && e.parentElement.getBoundingClientRect().right <= cw)
      .map((e) => `${e.tagName}.${e.getAttribute('class') ?? ''} in .${e.parentElement!.getAttribute('class') ?? ''}`)
      .slice(0, 8)
      .join(' | ');
    return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, wide };
  }, inside);
  expect(widths.scrollWidth, `wider than the window: ${widths.wide}`).toBeLessThanOrEqual(widths.clientWidth);
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
    onTestFinished(() => page.setViewportSize({ width: 1440, height: 900 }));
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
  });
});

describe('API keys and log links', () => {
  it('lists, creates and revokes API keys on the API keys page', async () => {
    await admin.createApiKey({ name: 'release-bot', role: ApiKeyRole.OPERATOR });
    await page.goto(`${server.httpUrl}/keys`);
    await page.locator('tr[data-key="release-bot"]', { hasText: 'operator' }).waitFor();
    await page.getByRole('button', { name: 'Create API key' }).click();
    const form = page.getByRole('form', { name: 'Create an API key' });
    await form.getByRole('button', { name: 'Create key' }).click();
    await form.getByRole('alert').getByText('Name the key').waitFor();
    await form.locator('input[name=keyName]').fill('dashboards');
    await form.locator('select[name=role]').selectOption({ label: 'viewer' });
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.locator('[data-api-key]').textContent())!;
    expect(secret.length).toBeGreaterThan(20);
    await page.locator('tr[data-key="dashboards"]', { hasText: 'viewer' }).waitFor();
    await screenshot(page, '29-api-keys-created');
    // The key works as a viewer.
    expect((await admin.listApiKeys({})).apiKeys.find((k) => k.name === 'dashboards')?.role).toBe(ApiKeyRole.VIEWER);
    await page.getByRole('button', { name: 'Done' }).click();
    // A name already taken is refused in a sentence.
    await page.getByRole('button', { name: 'Create API key' }).click();
    await form.locator('input[name=keyName]').fill('dashboards');
    await form.getByRole('button', { name: 'Create key' }).click();
    await form.getByRole('alert').getByText(/^Could not create the API key: .*dashboards/).waitFor();
    await page.getByRole('button', { name: 'Close form' }).click();

    await page.locator('tr[data-key="release-bot"]').getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('form', { name: 'Revoke release-bot' }).getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('status').getByText('release-bot was revoked.').waitFor();
    await page.locator('tr[data-key="release-bot"]', { hasText: 'Revoked' }).waitFor();
    expect((await admin.listApiKeys({})).apiKeys.find((k) => k.name === 'release-bot')?.revokeTime).toBeDefined();
    await screenshot(page, '30-api-keys-revoked');
  });

  it('links to a log line of an attempt and opens the page at it', async () => {
    const { job } = await jobs.submitJob({
      productId: 'web-shop',
      title: 'Long output',
      command: ['node', '-e', 'for (let i = 1; i <= 300; i++) console.log("line " + i + " of attempt " + process.env.GIGAFACTORY_EPOCH)'],
    });
    await page.goto(`${server.httpUrl}/jobs/${job!.id}#L1-250`);
    const target = page.locator('#L1-250');
    await target.waitFor();
    expect(await target.textContent()).toContain('line 250 of attempt 1');
    await expect.poll(() => target.getAttribute('class')).toContain('log-line-target');
    // Scrolled into view inside the log box.
    await expect.poll(() => target.evaluate((el) => {
      const box = el.closest('.log')!.getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.top >= box.top && r.bottom <= box.bottom;
    })).toBe(true);
    // Each line number is its link.
    expect(await page.locator('#L1-7 a.log-n').getAttribute('href')).toBe('#L1-7');
    await page.locator('#L1-7 a.log-n').click();
    await page.waitForURL(/#L1-7$/);
    await expect.poll(() => page.locator('#L1-7').getAttribute('class')).toContain('log-line-target');
    await screenshot(page, '31-log-line-link');
  });
});

describe('a job page explains itself', () => {
  it('shows its history newest first, run time without the review wait, one explained score and a dev-mode badge', async () => {
    const { job: reviewed } = await jobs.submitJob({ productId: 'web-shop', title: 'Reviewed change', command: ['node', '-e', 'console.log("diff ready")'], requireReview: true });
    await page.goto(`${server.httpUrl}/jobs/${reviewed!.id}`);
    await page.locator('.job-header .badge', { hasText: 'Awaiting review' }).waitFor();
    // Newest first: the last event (awaiting review) leads; no box hides it.
    await expect.poll(() => page.locator('.timeline-item').first().textContent()).toContain('Awaiting review');
    expect(await page.locator('.timeline-item').last().textContent()).toContain('submitted');
    // Security is off: the sidebar says so instead of offering a sign-in.
    await page.locator('[data-dev-mode]').getByText('Development mode').waitFor();
    expect(await page.getByText('Sign in with an API key').count()).toBe(0);
    // An hour of review later (the browser's clock moved on), the run time is still the run's.
    await page.clock.setFixedTime(Date.now() + 3_600_000);
    await expect.poll(() => page.locator('[data-fact="Ran for"] .fact-value').textContent()).toMatch(/^\d+(\.\d)? m?s$/);
    await screenshot(page, '32-job-review-history');
    await page.clock.setFixedTime(Date.now());

    // A running job after a dispatch: the panel says why the score now differs from the attempt's.
    const { job: running } = await jobs.submitJob({ productId: 'web-shop', title: 'Soak', command: ['node', '-e', 'setInterval(() => {}, 1000)'] });
    await page.goto(`${server.httpUrl}/jobs/${running!.id}`);
    await page.locator('.job-header .badge[data-stage=running]').waitFor();
    const note = page.locator('[data-score-note]');
    await note.waitFor();
    expect(await note.textContent()).toMatch(/dispatched with a score of [\d.]+ \(.*= [\d.]+\)\. The scores below are computed now/);
    await screenshot(page, '33-job-score-explained');
    await jobs.cancelJob({ jobId: running!.id });
  });

  it('says a past event happened "ago" even when the browser clock is behind', async () => {
    await jobs.submitJob({ productId: 'paused-shop', command: ['true'], requiredLabels: GPU });
    await admin.pauseBudget({ productId: 'paused-shop', reason: 'quarter closed' });
    await page.clock.setFixedTime(Date.now() - 60_000);
    await page.goto(`${server.httpUrl}/budgets?product=paused-shop`);
    const banner = page.locator('[data-budget="paused-shop"] .banner', { hasText: 'Paused by' });
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/^Paused by api just now: quarter closed$/);
    await page.clock.setFixedTime(Date.now());
  });
});

/** A GET with these headers; the body as sent (not decompressed). */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.http.port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('static files', () => {
  it('sends the app compressed as the browser asks (brotli, then gzip), with Vary and the right caching', async () => {
    const plainIndex = await rawGet('/jobs', {});
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(plainIndex.body.toString('utf8'))![1]!;
    const plain = await rawGet(script, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');

    const br = await rawGet(script, { 'Accept-Encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(br.body.length).toBeLessThan(plain.body.length / 2);

    const gz = await rawGet(script, { 'Accept-Encoding': 'gzip;q=1, br;q=0' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect((await rawGet(script, { 'Accept-Encoding': 'identity' })).headers['content-encoding']).toBeUndefined();
    expect((await rawGet(script, { 'Accept-Encoding': '*;q=0' })).headers['content-encoding']).toBeUndefined();

    // The page itself is never cached without asking again; it is under 1 KB, so sent as it is.
    const index = await rawGet('/jobs/some-job', { 'Accept-Encoding': 'br' });
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-encoding']).toBeUndefined();
    expect(index.body.equals(plainIndex.body)).toBe(true);
    // The browser loads the app compressed.
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(script)), page.goto(`${server.httpUrl}/jobs`)]);
    expect(await response.headerValue('content-encoding')).toBe('br');
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  });
});

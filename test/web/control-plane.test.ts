/**
 * The browser control plane end to end: Debian's Chromium against a real coordinator (in this
 * process) and a real agent process. An operator signs in with a real API key, submits jobs from the
 * Jobs page, watches one run with live coloured output, cancels a long one, pages and filters the
 * table while it updates live, and reads the overview and factories pages; a refused key sends the
 * operator back to sign-in, and a viewer key finds the buttons its role may not use disabled (with
 * the role needed) and is refused if it calls the RPC anyway. Each page is saved as a screenshot in
 * test-artifacts/screenshots/.
 */
import { create } from '@bufbuild/protobuf';
import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { LabelOperator, LabelRequirementSchema } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { forceRpc, launchBrowser, screenshot, submitThroughForm, type TestBrowser, type UiJobFields } from '../support/browser.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { RawFactory } from '../support/raw-factory.js';
import { VERSION } from '../../src/version.js';
import { startTestServer, type TestServer } from '../support/server.js';

const AGENT_ID = 'build-linux-01';

let server: TestServer;
let agent: ManagedProcess;
let browser: TestBrowser;
let page: Page;
let jobs: Client<typeof JobService>;
let workDir: string;
let operatorKey: string;
let viewerKey: string;
let revokedKey: string;
let adminKey: string;
let gpuAgent: ManagedProcess | undefined;
let admin: Client<typeof AdminService>;
const authHeaders: string[] = [];

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'gigafactory-web-agent-'));
  server = await startTestServer();
  // The test server runs in loopback development mode: calls without a credential act as admin,
  // so the test can create the keys the browser signs in with. A key that is sent must be real.
  const transport = createConnectTransport({ baseUrl: server.httpUrl, httpVersion: '1.1' });
  jobs = createClient(JobService, transport);
  admin = createClient(AdminService, transport);
  operatorKey = (await admin.createApiKey({ name: 'e2e-operator', role: ApiKeyRole.OPERATOR })).key;
  viewerKey = (await admin.createApiKey({ name: 'e2e-viewer', role: ApiKeyRole.VIEWER })).key;
  revokedKey = (await admin.createApiKey({ name: 'e2e-leaver', role: ApiKeyRole.OPERATOR })).key;
  adminKey = (await admin.createApiKey({ name: 'e2e-admin', role: ApiKeyRole.ADMIN })).key;
  [agent, browser] = await Promise.all([
    spawnAgent({ coordinator: server.grpc.address, id: AGENT_ID, slots: 2, workDir, labels: ['pool=ci', 'mem_gb=16'] }),
    launchBrowser(),
  ]);
  page = browser.page;
  page.on('request', (req) => {
    if (req.url().includes('/gigafactory.fleet.v1.')) authHeaders.push(req.headers().authorization ?? '');
  });
  // The app must run whole under its Content-Security-Policy: Chromium reports each blocked thing on the console.
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
});

const cspViolations: string[] = [];

// A failing step leaves a picture of what the browser showed.
afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && page) await screenshot(page, `failed-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => {});
});

afterAll(async () => {
  // Every page the tests visited ran under the policy without a violation.
  expect(cspViolations).toEqual([]);
  await browser?.close();
  await gpuAgent?.kill();
  await agent?.kill();
  await server?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function submitThroughUi(fields: UiJobFields): Promise<string> {
  return submitThroughForm(page, server.httpUrl, fields);
}

/** A GET with the path sent exactly as written (fetch would normalise it). */
function rawGet(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: server.http.address.split(':')[0], port: server.http.port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

async function stageOf(p: Page): Promise<string | null> {
  return p.locator('.job-header .badge').getAttribute('data-stage');
}

describe('web control plane', () => {
  it('serves the app with its assets and keeps RPC and health paths for the gateway', async () => {
    const index = await fetch(`${server.httpUrl}/jobs/some-job`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await index.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${server.httpUrl}${script}`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    // Served under a Content-Security-Policy that allows only its own origin, and without source maps.
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    expect(await js.text()).not.toContain('sourceMappingURL');
    expect((await fetch(`${server.httpUrl}${script}.map`)).status).toBe(404);
    expect((await fetch(`${server.httpUrl}/assets/missing.js`)).status).toBe(404);
    // Paths that climb out of the build directory find nothing.
    for (const path of ['/..%2f..%2fpackage.json', '/assets/..%2f..%2f..%2fpackage.json']) expect(await rawGet(path)).toBe(404);
    expect(await (await fetch(`${server.httpUrl}/healthz`)).text()).toBe('ok\n');
    expect((await fetch(`${server.httpUrl}/metrics`)).headers.get('content-type')).toContain('text/plain');
    // A Connect GET-less RPC path is never answered with the app.
    const rpc = await fetch(`${server.httpUrl}/gigafactory.fleet.v1.JobService/ListJobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(rpc.headers.get('content-type')).toContain('application/json');
    expect(((await rpc.json()) as { jobs: unknown[] }).jobs).toEqual([]);
  });

  it('signs in with an API key kept for the tab and sends it as a bearer token', async () => {
    await page.goto(`${server.httpUrl}/sign-in`);
    await page.getByRole('heading', { name: 'Sign in with an API key' }).waitFor();
    await page.locator('input[name=apiKey]').fill(operatorKey);
    await screenshot(page, '01-sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.httpUrl}/`);
    await page.locator('.account-key').getByText(`Key ••••${operatorKey.slice(-4)}`).waitFor();
    await page.locator(`.factory-card[data-factory="${AGENT_ID}"]`).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('gigafactory.apiKey'))).toBe(operatorKey);
    expect(authHeaders.at(-1)).toBe(`Bearer ${operatorKey}`);
  });

  it('says how budgets start while no product has one', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Budgets' }).click();
    await page.getByText('No product has a budget or spend yet').waitFor();
    expect(await page.locator('.empty-body').textContent()).toContain('GIGAFACTORY_COST_FILE');
    await screenshot(page, '01b-budgets-empty');
  });

  it('explains a refused submission in a sentence', async () => {
    await page.goto(`${server.httpUrl}/jobs`);
    await page.getByRole('button', { name: 'Submit a job' }).click();
    const form = page.getByRole('form', { name: 'Submit a job' });
    await form.locator('input[name=product]').fill('Web Shop');
    await form.getByRole('button', { name: 'Submit job' }).click();
    await form.getByRole('alert').getByText('Enter the command to run, for example: make test').waitFor();
    await form.locator('input[name=command]').fill('echo hello');
    await form.getByRole('button', { name: 'Submit job' }).click();
    const alert = form.getByRole('alert');
    await alert.getByText(/^Could not submit the job: product_id "Web Shop" must be/).waitFor();
    expect(await alert.textContent()).toMatch(/starting with a letter or digit\.$/);
    await screenshot(page, '07b-submit-refused');
  });

  it('submits a job from the Jobs page and follows it to success with live coloured output', async () => {
    const script = [
      'const c = (n, s) => "\\x1b[" + n + "m" + s + "\\x1b[0m";',
      'console.log(c(32, "✓") + " checked out " + c(1, "main"));',
      'console.log(c(36, "→") + " installing dependencies");',
      'console.error(c(33, "warning:") + " cache is cold");',
      'setTimeout(() => { for (const t of ["unit", "store", "api"]) console.log(c(32, "PASS") + " " + t + " tests"); console.log(c("1;32", "build succeeded")); }, 1500);',
    ].join(' ');
    const jobId = await submitThroughUi({ product: 'web-shop', title: 'Build and test web-shop', command: `node -e '${script}'`, labels: 'pool=ci', priority: 5 });

    // The first lines arrive while the job still runs.
    const firstLine = page.locator('.log-line', { hasText: 'checked out main' });
    await firstLine.waitFor();
    expect(await stageOf(page)).toBe('running');
    // ANSI colours become styles: green for the check mark, bold for the branch.
    expect(await firstLine.getByText('✓', { exact: true }).evaluate((el) => getComputedStyle(el).color)).toBe('rgb(74, 222, 128)');
    expect(await firstLine.getByText('main', { exact: true }).evaluate((el) => getComputedStyle(el).fontWeight)).toBe('700');
    // stderr travels in its own chunk, possibly a moment after stdout's.
    await page.locator('.log-line.log-stderr', { hasText: 'cache is cold' }).waitFor();
    expect(await page.locator('.log-line.log-stderr', { hasText: 'cache is cold' }).count()).toBe(1);
    await screenshot(page, '03-job-running');

    await page.locator('.job-header .badge[data-stage=succeeded]').waitFor();
    await page.locator('.log-line', { hasText: 'build succeeded' }).waitFor();
    await page.locator('.log-status[data-status=complete]').waitFor();
    expect(await page.locator('.log-line').count()).toBe(7);
    // The attempt: our agent, epoch 1, succeeded with exit code 0.
    const attempt = page.locator('.attempts-table tbody tr').first();
    expect(await attempt.textContent()).toContain(AGENT_ID);
    expect(await attempt.locator('.badge').textContent()).toBe('Succeeded');

    // Search highlights matches and can hide the other lines.
    await page.locator('input[name=log-search]').fill('tests');
    await page.locator('.log-matches', { hasText: '3 matches in 3 lines' }).waitFor();
    expect(await page.locator('.log mark').count()).toBe(3);
    await page.getByLabel('Only matching lines').check();
    expect(await page.locator('.log-line').count()).toBe(3);
    await page.getByLabel('Only matching lines').uncheck();
    await page.locator('input[name=log-search]').fill('');

    // Download gives the output as plain text.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe(`${jobId}.log`);
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text).toContain('✓ checked out main\n');
    expect(text).not.toContain('\x1b');
    await screenshot(page, '04-job-succeeded');
  });

  it('cancels a long-running job and shows it cancelled', async () => {
    const jobId = await submitThroughUi({
      product: 'web-shop',
      title: 'Nightly load test',
      command: `node -e 'console.log("load test started"); let i = 0; setInterval(() => console.log("\\x1b[2m" + new Date().toISOString() + "\\x1b[0m request batch " + ++i + " ok"), 200)'`,
    });
    await page.locator('.log-line', { hasText: 'request batch 3 ok' }).waitFor();
    expect(await stageOf(page)).toBe('running');
    // Why it runs where it does: the placement now, and the score that won its dispatch.
    await page.locator(`#placement tr[data-factory="${AGENT_ID}"]`, { hasText: 'passes all' }).waitFor();
    expect(await page.locator('.attempts-table .decision-cell').first().textContent()).toMatch(/= \d/);
    await page.getByRole('button', { name: 'Cancel job' }).click();
    const confirm = page.getByRole('form', { name: 'Cancel this job' });
    await confirm.locator('input[name=reason]').fill('superseded by a newer build');
    await screenshot(page, '05-job-cancel-confirm');
    await confirm.getByRole('button', { name: 'Cancel job' }).click();
    await page.locator('.job-header .badge[data-stage=cancelled]').waitFor();
    await page.locator('.timeline-item', { hasText: 'superseded by a newer build' }).first().waitFor();
    expect(await page.locator('.attempts-table .badge').first().textContent()).toBe('Cancelled');
    expect((await jobs.getJob({ jobId })).job?.result ?? '').toBeDefined();
    await screenshot(page, '06-job-cancelled');
  });

  it('lists, filters and pages jobs, with new jobs appearing live', async () => {
    // Work no connected factory can take (it stays queued) and one that fails.
    const gpu = create(LabelRequirementSchema, { key: 'gpu', operator: LabelOperator.EQUALS, values: ['a100'] });
    for (let i = 1; i <= 27; i++) {
      await jobs.submitJob({ productId: 'ml-train', title: `Fine-tune shard ${String(i).padStart(2, '0')}`, command: ['python3', 'train.py', `--shard=${i}`], requiredLabels: [gpu], priority: i % 3 });
    }
    await jobs.submitJob({ productId: 'payments', title: 'Migrate ledger schema', command: ['node', '-e', 'console.error("migration 0042 failed: lock timeout"); process.exit(3)'], maxAttempts: 1 });

    await page.goto(`${server.httpUrl}/jobs`);
    await page.locator('.job-row').first().waitFor();
    expect(await page.locator('.job-row').count()).toBe(25);
    await page.getByRole('button', { name: 'Older →' }).click();
    await page.locator('.pager', { hasText: 'Page 2 · 5 jobs' }).waitFor();
    expect(await page.locator('.job-row').count()).toBe(5);
    await page.getByRole('button', { name: '← Newer' }).click();
    await page.locator('.pager', { hasText: 'Page 1 · 25 jobs' }).waitFor();

    // A job submitted elsewhere appears at the top without a reload.
    const live = await jobs.submitJob({ productId: 'web-shop', title: 'Live arrival', command: ['true'] });
    await page.locator(`.job-row[data-job-id="${live.job!.id}"]`).waitFor();
    await page.locator(`.job-row[data-job-id="${live.job!.id}"] .badge[data-stage=succeeded]`).waitFor();
    await screenshot(page, '07-jobs');

    // Filters: product, stage, label and text.
    await page.locator('input[name=product]').fill('web-shop');
    await page.locator('input[name=product]').press('Enter');
    await page.waitForURL(/product=web-shop/);
    await page.locator('.pager', { hasText: 'Page 1 · 3 jobs' }).waitFor();
    await page.locator('select[name=stage]').selectOption('cancelled');
    await page.locator('.pager', { hasText: 'Page 1 · 1 job' }).waitFor();
    expect(await page.locator('.job-row .job-title').textContent()).toBe('Nightly load test');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.locator('input[name=label]').fill('gpu=a100');
    await page.locator('input[name=label]').press('Enter');
    await page.locator('.pager', { hasText: 'Page 1 · 25 jobs' }).waitFor();
    await page.locator('input[name=q]').fill('shard 07');
    await page.locator('input[name=q]').press('Enter');
    await page.locator('.pager', { hasText: '1 job matching “shard 07”' }).waitFor();
    expect(await page.locator('.job-row .job-title').textContent()).toBe('Fine-tune shard 07');
    await screenshot(page, '08-jobs-filtered');

    // A job no factory can take says why, factory by factory.
    await page.locator('.job-row .job-title', { hasText: 'Fine-tune shard 07' }).click();
    await page.waitForURL(/\/jobs\/job_/);
    const verdict = page.locator(`#placement tr[data-factory="${AGENT_ID}"]`);
    await verdict.waitFor();
    expect(await verdict.textContent()).toContain('labels');
    await screenshot(page, '08b-job-waiting');
  });

  it('shows the fleet, the queue and the last hour on the overview', async () => {
    await page.goto(`${server.httpUrl}/`);
    const card = page.locator(`.factory-card[data-factory="${AGENT_ID}"]`);
    await card.waitFor();
    expect(await card.textContent()).toContain('pool=ci');
    // Queue by product: the 27 GPU jobs wait; the scaling signal names what they need.
    await page.locator('.table tr', { hasText: 'ml-train' }).locator('td.num.strong', { hasText: '27' }).waitFor();
    await page.locator('.demand', { hasText: 'gpu=a100' }).getByText('27 jobs').waitFor();
    // Last hour: two succeeded (build, live arrival), one failed (payments), one cancelled.
    await page.locator('.legend', { hasText: 'Succeeded 2' }).waitFor();
    expect(await page.locator('.legend').textContent()).toContain('Failed 1');
    expect(await page.locator('.legend').textContent()).toContain('Cancelled 1');
    expect(await page.locator('.stat', { hasText: 'Failure rate' }).locator('.stat-value').textContent()).toBe('33%');
    // A job starting now shows up as running on the factory card without a reload.
    const running = await jobs.submitJob({ productId: 'web-shop', title: 'Smoke test staging', command: ['node', '-e', 'setTimeout(() => {}, 1500)'] });
    await card.getByText('Smoke test staging').waitFor();
    await screenshot(page, '02-overview');
    await jobs.cancelJob({ jobId: running.job!.id });
  });

  it('lists the connected factories, flagging an agent older than the compatibility window', async () => {
    // An agent from before this coordinator's window (0.0.9 < 0.1.0) says hello.
    const old = new RawFactory(server.grpcUrl);
    old.hello('mac-mini-old', { agentVersion: '0.0.9' });
    await old.next('welcome');
    try {
      await page.goto(`${server.httpUrl}/factories`);
      const row = page.locator(`tr[data-factory="${AGENT_ID}"]`);
      await row.waitFor();
      expect(await row.textContent()).toContain('mem_gb=16');
      expect(await row.locator('.pill').textContent()).toBe('Online');
      expect(await row.textContent()).toContain(VERSION);
      expect(await row.locator('[data-outdated]').count()).toBe(0);
      const oldRow = page.locator('tr[data-factory="mac-mini-old"]');
      await oldRow.locator('[data-outdated]').waitFor();
      expect(await oldRow.locator('[data-outdated]').getAttribute('title')).toContain(`(${VERSION.replace(/\.\d+$/, '.0')} or newer)`);
      expect(await page.getByRole('alert').textContent()).toContain('1 agent is older than this coordinator');
      await screenshot(page, '09-factories');
    } finally {
      old.breakStream();
    }
    await page.locator('tr[data-factory="mac-mini-old"]').waitFor({ state: 'detached' });
  });

  it('sends the operator back to sign-in when the coordinator refuses the key', async () => {
    await page.goto(`${server.httpUrl}/sign-in`);
    await page.locator('input[name=apiKey]').fill(revokedKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.httpUrl}/`);
    await page.locator(`.factory-card[data-factory="${AGENT_ID}"]`).waitFor();
    // The key is revoked while the operator works: the page's open stream ends with the refusal at once.
    await admin.revokeApiKey({ name: 'e2e-leaver' });
    await page.waitForURL(/\/sign-in\?next=%2F$/);
    await page.getByRole('alert').getByText(/^The coordinator did not accept this API key: API key "e2e-leaver" was revoked at .+\. Sign in with another one\.$/).waitFor();
    await screenshot(page, '10-sign-in-refused');
    await page.locator('input[name=apiKey]').fill(operatorKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.httpUrl}/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Factories' }).click();
    await page.waitForURL(`${server.httpUrl}/factories`);
    await page.locator(`tr[data-factory="${AGENT_ID}"]`).waitFor();
  });

  it('shows a viewer key its role and disables what it may not do, saying which role is needed; forcing it is refused', async () => {
    const { job } = await jobs.submitJob({ productId: 'web-shop', title: 'Long soak', command: ['node', '-e', 'setInterval(() => {}, 1000)'] });
    await page.goto(`${server.httpUrl}/sign-in?next=${encodeURIComponent(`/jobs/${job!.id}`)}`);
    await page.locator('input[name=apiKey]').fill(viewerKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.httpUrl}/jobs/${job!.id}`);
    await page.locator('.job-header .badge[data-stage=running]').waitFor();
    await page.locator('.account-role[data-role=viewer]').waitFor();
    const cancel = page.getByRole('button', { name: 'Cancel job' });
    await expect.poll(() => cancel.isDisabled()).toBe(true);
    expect(await cancel.getAttribute('title')).toBe('Needs the operator role; the key "e2e-viewer" is a viewer.');
    await screenshot(page, '14-viewer-job');
    // The buttons are only a courtesy: the coordinator refuses the call itself.
    const forced = await forceRpc(page, 'JobService/CancelJob', { jobId: job!.id, reason: 'forced' });
    expect(forced.status).toBe(403);
    expect(forced.code).toBe('permission_denied');
    expect(forced.message).toMatch(/API key "e2e-viewer" has role viewer; JobService\/CancelJob needs operator or above/);
    expect(await stageOf(page)).toBe('running');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Submit a job' }).isDisabled()).toBe(true);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Factories' }).click();
    const row = page.locator(`tr[data-factory="${AGENT_ID}"]`);
    await row.waitFor();
    for (const name of ['Drain', 'Revoke']) expect(await row.getByRole('button', { name }).isDisabled()).toBe(true);
    expect(await row.getByRole('button', { name: 'Revoke' }).getAttribute('title')).toBe('Needs the admin role; the key "e2e-viewer" is a viewer.');
    expect(await page.getByRole('button', { name: 'Create enrollment token' }).isDisabled()).toBe(true);

    await jobs.cancelJob({ jobId: job!.id });
    await page.goto(`${server.httpUrl}/jobs/${job!.id}`);
    await page.locator('.job-header .badge[data-stage=cancelled]').waitFor();
  });

  it('lets an operator drain but not revoke', async () => {
    await page.goto(`${server.httpUrl}/sign-in?next=%2Ffactories`);
    await page.locator('input[name=apiKey]').fill(operatorKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.httpUrl}/factories`);
    await page.locator('.account-role[data-role=operator]').waitFor();
    const row = page.locator(`tr[data-factory="${AGENT_ID}"]`);
    await expect.poll(() => row.getByRole('button', { name: 'Revoke' }).isDisabled()).toBe(true);
    expect(await row.getByRole('button', { name: 'Drain' }).isDisabled()).toBe(false);
    expect(await row.getByRole('button', { name: 'Revoke' }).getAttribute('title')).toBe('Needs the admin role; the key "e2e-operator" is an operator.');
  });

  it('lets an admin enroll a factory with a token shown once, then revoke it and drain another', async () => {
    await page.goto(`${server.httpUrl}/sign-in?next=%2Ffactories`);
    await page.locator('input[name=apiKey]').fill(adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.httpUrl}/factories`);
    await page.getByRole('button', { name: 'Create enrollment token' }).click();
    const form = page.getByRole('form', { name: 'Create an enrollment token' });
    await form.locator('input[name=factoryId]').fill('gpu-box-02');
    await form.locator('input[name=allowedLabels]').fill('os arch pool=gpu');
    await form.locator('input[name=description]').fill('rack 4, lent by the ML team');
    await form.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.locator('[data-token]').textContent())!;
    expect(token).toMatch(/^gfe_/);
    // The line per platform that installs the agent and starts it as a service, enrolled.
    await form.page().locator('input[name=agentPackage]').fill('https://artifacts.example/gigafactory-agent.tgz');
    expect(await page.locator('[data-install-line=linux] code').textContent()).toBe(
      `sudo npm install -g https://artifacts.example/gigafactory-agent.tgz && sudo gigafactory-agent --coordinator 127.0.0.1:7070 install-service --id gpu-box-02 --enroll-token ${token}`,
    );
    expect(await page.locator('[data-install-line=windows] code').textContent()).toContain(`gigafactory-agent --coordinator 127.0.0.1:7070 install-service --id gpu-box-02 --enroll-token ${token}`);
    await screenshot(page, '11-enrollment-token');
    await page.getByRole('button', { name: 'Done' }).click();

    // A real agent enrolls with it and shows up.
    gpuAgent = await spawnAgent({ coordinator: server.grpc.address, id: 'gpu-box-02', workDir: join(workDir, 'gpu-box-02'), labels: ['pool=gpu'], args: ['--enroll-token', token] });
    const gpuRow = page.locator('tr[data-factory="gpu-box-02"]');
    await gpuRow.waitFor();
    expect(await gpuRow.textContent()).toContain('pool=gpu');
    await screenshot(page, '12-factories-enrolled');

    await gpuRow.getByRole('button', { name: 'Revoke' }).click();
    const revoke = page.getByRole('form', { name: 'Revoke gpu-box-02' });
    await revoke.locator('input[name=reason]').fill('returned to the ML team');
    await screenshot(page, '13-factory-revoke-confirm');
    await revoke.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('status').getByText('gpu-box-02 was revoked; 1 open stream was closed.').waitFor();
    await gpuRow.waitFor({ state: 'detached' });

    const mainRow = page.locator(`tr[data-factory="${AGENT_ID}"]`);
    await mainRow.getByRole('button', { name: 'Drain' }).click();
    await page.getByRole('form', { name: `Drain ${AGENT_ID}` }).getByRole('button', { name: 'Drain' }).click();
    await page.getByRole('status').getByText(`${AGENT_ID} is draining`).waitFor();
  });
});

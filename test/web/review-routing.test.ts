/**
 * Review routing on the job page, end to end: Debian's Chromium against a real coordinator and a
 * real agent process. A job needing 2 of 3 reviewers shows who must approve; a reviewer signed in
 * with their key approves it from the page (the button says Approve, not Ship) and the panel shows
 * "1 of 2 approvals: alice ✓; still needed: 1 of bob, carol"; a second reviewer's approval (over
 * the API) ships it and the page follows. Screenshots go to test-artifacts/screenshots/.
 */
import type { Client } from '@connectrpc/connect';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { gatewayClient } from '../security/helpers.js';
import { launchBrowser, screenshot, signIn, type TestBrowser } from '../support/browser.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let agent: ManagedProcess;
let browser: TestBrowser;
let page: Page;
let workDir: string;
const keys: Record<string, string> = {};
const as = (name: string): Client<typeof JobService> => gatewayClient(JobService, server, keys[name]!);

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'gigafactory-web-review-'));
  server = await startTestServer();
  const admin = gatewayClient(AdminService, server, null); // loopback development mode
  for (const name of ['alice', 'bob', 'carol', 'erin']) keys[name] = (await admin.createApiKey({ name, role: ApiKeyRole.OPERATOR })).key;
  await admin.setProductSettings({ productId: 'shop', reviewPolicy: { groups: [{ name: 'release', members: ['bob', 'carol'] }], forbidSelfApproval: true } });
  [agent, browser] = await Promise.all([spawnAgent({ coordinator: server.grpc.address, id: 'review-box', slots: 1, workDir: join(workDir, 'agent') }), launchBrowser()]);
  page = browser.page;
  await signIn(page, server.httpUrl, keys.alice!);
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

it('shows who must approve, takes an approval from the page, and ships with the second', async () => {
  const { job } = await as('erin').submitJob({ productId: 'shop', title: 'Raise the cart limit to 200 items', command: ['true'], reviewers: ['alice', 'group:release'], requiredApprovals: 2 });
  const jobId = job!.id;
  await waitForStage(as('erin'), jobId, JobStage.AWAITING_REVIEW);
  await page.goto(`${server.httpUrl}/jobs/${jobId}`);
  const summary = page.locator('[data-review-summary]');
  await summary.getByText('0 of 2 approvals; still needed: 2 of alice, bob, carol').waitFor();
  expect(await page.locator('.review-pending').textContent()).toBe('Still needed: 2 of alice, bob, carol');
  expect(await page.locator('.job-actions button').allTextContents()).toContain('Approve');
  expect(await page.locator('.job-actions button').allTextContents()).not.toContain('Ship');
  await screenshot(page, '40-review-needs-two-of-three');

  await page.getByRole('button', { name: 'Approve' }).click();
  const confirm = page.getByRole('form', { name: 'Approve this job' });
  await confirm.locator('input[name=reason]').fill('checked the limits');
  await confirm.getByRole('button', { name: 'Approve' }).click();
  await summary.getByText('1 of 2 approvals: alice ✓; still needed: 1 of bob, carol').waitFor();
  await page.locator('.review-approved', { hasText: 'alice' }).getByText('checked the limits').waitFor();
  expect(await page.locator('.job-header .badge').textContent()).toContain('Awaiting review');
  await screenshot(page, '41-review-one-approval');

  await as('bob').shipJob({ jobId, reason: 'release ok' });
  await page.locator('.job-header .badge').getByText('Shipped').waitFor();
  await summary.getByText('2 of 2 approvals: alice ✓, bob ✓').waitFor();
  expect(await page.locator('.review-pending').count()).toBe(0);
  await page.locator('.timeline-item', { hasText: '2 of 2 approvals' }).waitFor();
  await screenshot(page, '42-review-shipped');
}, 90_000);

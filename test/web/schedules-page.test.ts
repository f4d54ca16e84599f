/**
 * The Schedules page end to end: Debian's Chromium against a real coordinator (in this process). An
 * operator creates a schedule from the form (cron, time zone, overlap and catch-up policies, a job
 * template), sees it listed with its next fire time, is told plainly what is wrong with a bad cron
 * or time zone (nothing is created), pauses and resumes it, triggers a run now (a job of the
 * schedule) and deletes it; a viewer sees the list with the actions disabled. Every step is checked
 * against ScheduleService. Screenshots go to test-artifacts/screenshots/.
 */
import type { Client } from '@connectrpc/connect';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { ScheduleCatchUpPolicy, ScheduleOverlapPolicy } from '../../gen/ts/gigafactory/fleet/v1/schedule_pb.js';
import { ScheduleService } from '../../gen/ts/gigafactory/fleet/v1/schedule_service_pb.js';
import { gatewayClient } from '../security/helpers.js';
import { launchBrowser, screenshot, signIn, type TestBrowser } from '../support/browser.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let browser: TestBrowser;
let page: Page;
let schedules: Client<typeof ScheduleService>;
let jobs: Client<typeof JobService>;
const keys: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer();
  const admin = gatewayClient(AdminService, server, null); // loopback development mode
  schedules = gatewayClient(ScheduleService, server, null);
  jobs = gatewayClient(JobService, server, null);
  keys.operator = (await admin.createApiKey({ name: 'release-manager', role: ApiKeyRole.OPERATOR })).key;
  keys.viewer = (await admin.createApiKey({ name: 'auditor', role: ApiKeyRole.VIEWER })).key;
  browser = await launchBrowser();
  page = browser.page;
  await signIn(page, server.httpUrl, keys.operator!, '/schedules');
});

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && page) await screenshot(page, `failed-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const row = (name: string) => page.locator(`tr[data-schedule="${name}"]`);

async function fillForm(fields: { name: string; cron: string; timeZone: string; product: string; command: string }): Promise<void> {
  const form = page.getByRole('form', { name: 'Create a schedule' });
  for (const [field, value] of Object.entries(fields)) await form.locator(`input[name=${field}]`).fill(value);
}

it('creates a schedule from the form and lists it with its next fire time; bad input is refused plainly', async () => {
  await page.getByText('No schedules yet').waitFor();
  await page.getByRole('button', { name: 'Create schedule' }).click();
  const form = page.getByRole('form', { name: 'Create a schedule' });
  await fillForm({ name: 'nightly-build', cron: '61 * * * *', timeZone: 'Europe/Berlin', product: 'web-shop', command: 'make nightly' });
  await form.locator('select[name=overlap]').selectOption(String(ScheduleOverlapPolicy.QUEUE_ONE));
  await form.locator('select[name=catchUp]').selectOption(String(ScheduleCatchUpPolicy.RUN_ONCE));
  await form.getByRole('button', { name: 'Create schedule' }).click();
  await form.getByText(/cron "61 \* \* \* \*" is not a valid cron expression/).waitFor();
  await form.locator('input[name=cron]').fill('30 2 * * *');
  await form.locator('input[name=timeZone]').fill('Mars/Olympus');
  await form.getByRole('button', { name: 'Create schedule' }).click();
  await form.getByText(/time_zone "Mars\/Olympus" is not an IANA time zone/).waitFor();
  expect((await schedules.listSchedules({})).schedules).toEqual([]);
  await screenshot(page, '43-schedule-form-refused');

  await form.locator('input[name=timeZone]').fill('Europe/Berlin');
  await form.getByRole('button', { name: 'Create schedule' }).click();
  await row('nightly-build').waitFor();
  const [stored] = (await schedules.listSchedules({})).schedules;
  expect(stored).toMatchObject({ name: 'nightly-build', cron: '30 2 * * *', timeZone: 'Europe/Berlin', overlapPolicy: ScheduleOverlapPolicy.QUEUE_ONE, catchUpPolicy: ScheduleCatchUpPolicy.RUN_ONCE, paused: false });
  expect(stored!.template).toMatchObject({ productId: 'web-shop', command: ['make', 'nightly'] });
  const next = new Date(Number(stored!.nextFireTime!.seconds) * 1000).toISOString();
  expect(await row('nightly-build').locator('[data-next-fire]').textContent()).toContain(next);
  expect(await row('nightly-build').textContent()).toContain('Queue one · Run once');
  await screenshot(page, '44-schedules-listed');
}, 60_000);

it('pauses, resumes, triggers a run now and deletes a schedule', async () => {
  const scheduleId = (await schedules.listSchedules({})).schedules[0]!.scheduleId;
  await row('nightly-build').getByRole('button', { name: 'Pause' }).click();
  await row('nightly-build').getByText('Paused', { exact: true }).waitFor();
  expect((await schedules.getSchedule({ scheduleId })).schedule!.paused).toBe(true);
  await row('nightly-build').getByRole('button', { name: 'Resume' }).click();
  await row('nightly-build').getByText('Active').waitFor();
  expect((await schedules.getSchedule({ scheduleId })).schedule!.paused).toBe(false);

  await row('nightly-build').getByRole('button', { name: 'Trigger' }).click();
  await page.getByRole('form', { name: 'Trigger nightly-build now' }).getByRole('button', { name: 'Trigger' }).click();
  const notice = page.getByText(/nightly-build was triggered: job (job_\S+)\./);
  await notice.waitFor();
  const jobId = /job (job_\S+)\./.exec((await notice.textContent())!)![1]!;
  expect((await jobs.getJob({ jobId })).job).toMatchObject({ scheduleId, productId: 'web-shop', command: ['make', 'nightly'] });
  await row('nightly-build').getByRole('link', { name: jobId }).waitFor();
  await screenshot(page, '45-schedule-triggered');

  await row('nightly-build').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('form', { name: 'Delete nightly-build' }).getByRole('button', { name: 'Delete' }).click();
  await page.getByText('No schedules yet').waitFor();
  expect((await schedules.listSchedules({})).schedules).toEqual([]);
}, 60_000);

it('shows a viewer the schedules with the actions disabled', async () => {
  await schedules.createSchedule({ name: 'weekly-report', cron: '0 9 * * 1', timeZone: 'UTC', template: { productId: 'reports', command: ['true'] } });
  await signIn(page, server.httpUrl, keys.viewer!, '/schedules');
  await row('weekly-report').waitFor();
  expect(await row('weekly-report').getByRole('button', { name: 'Pause' }).isDisabled()).toBe(true);
  expect(await row('weekly-report').getByRole('button', { name: 'Delete' }).isDisabled()).toBe(true);
  expect(await page.getByRole('button', { name: 'Create schedule' }).isDisabled()).toBe(true);
  await screenshot(page, '46-schedules-viewer');
}, 60_000);

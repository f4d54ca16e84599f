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

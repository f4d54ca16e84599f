/**
 * The Weights page in Debian's Chromium against a real coordinator: a product's A/B experiment of
 * scoring weights, its candidate weights and share, each arm's placements and success rate with an
 * interval, and the difference (the candidate arm's weights stop favouring factories that fail, so
 * it succeeds more); a product without an experiment says how to start one.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { WeightsService } from '../../gen/ts/gigafactory/fleet/v1/weights_service_pb.js';
import { DEFAULT_WEIGHTS } from '../../src/domain/scheduler.js';
import { launchBrowser, screenshot, type TestBrowser } from '../support/browser.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { history } from '../support/weights-history.js';

let server: TestServer;
let browser: TestBrowser;
let page: Page;
let weights: Client<typeof WeightsService>;

beforeAll(async () => {
  server = await startTestServer();
  weights = createClient(WeightsService, createConnectTransport({ baseUrl: server.httpUrl, httpVersion: '1.1' }));
  browser = await launchBrowser();
  page = browser.page;
});
afterEach(async ({ task }) => {
  if (task.result?.state === 'fail' && page) await screenshot(page, `failed-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => {});
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

it('shows both arms of an experiment with intervals, and the candidate arm succeeding more', async () => {
  await weights.startWeightsExperiment({ productId: 'abweb', weights: { costClass: 0 }, fraction: 0.3 });
  // Placements as the experiment makes them: 30% of jobs on weights that stop favouring the cheap,
  // failing factories (the history's ground truth), recorded from the experiment's start on.
  const candidate = { ...DEFAULT_WEIGHTS, costClass: 0 };
  const decisions = history(600, 5, (i) => (i % 10 < 3 ? { arm: 'candidate', weights: candidate } : { arm: 'control', weights: DEFAULT_WEIGHTS }), 'abweb', Date.now());
  const store = server.coordinator.fleet.decisions.store;
  await store.appendDecisions(decisions);
  await store.recordOutcomes(decisions.map((d) => ({ jobId: d.jobId, epoch: d.epoch, productId: d.productId, outcome: d.outcome! })));

  await page.goto(`${server.httpUrl}/weights`);
  await page.getByLabel('Product').fill('abweb');
  await page.getByRole('button', { name: 'Show' }).click();
  const table = page.locator('[data-weights-comparison]');
  await table.waitFor();
  expect(page.url()).toContain('/weights?product=abweb');
  await page.getByText('30% of abweb’s jobs on costClass 0').waitFor();
  await expect.poll(() => table.locator('tr[data-arm=control] td').first().textContent()).toContain('420');
  expect(await table.locator('tr[data-arm=candidate] td').first().textContent()).toContain('180');
  // Success rate: a mean and its interval per arm, and a positive difference with its interval above 0.
  expect(await table.locator('tr[data-arm=control] td').nth(1).innerText()).toMatch(/^\d+(\.\d)?%\n\[\d+(\.\d)?%, \d+(\.\d)?%\]$/);
  const difference = await table.locator('tr[data-arm=difference] td').nth(1).innerText();
  expect(difference).toMatch(/^\+\d+(\.\d)? pt\n\[\+\d+(\.\d)? pt, \+\d+(\.\d)? pt\]$/);
  // Nothing sticks out of the panel: the widest row fits the window.
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
  const box = await table.boundingBox();
  const panel = await page.locator('.panel').nth(1).boundingBox();
  expect(box!.x + box!.width).toBeLessThanOrEqual(panel!.x + panel!.width + 1);
  await screenshot(page, '40-weights-experiment');
});

it('says how to start an experiment for a product without one', async () => {
  await page.goto(`${server.httpUrl}/weights?product=quiet`);
  await page.getByText('quiet runs no weights experiment').waitFor();
  await page.getByText('gigafactory weights ab --product quiet').waitFor();
});

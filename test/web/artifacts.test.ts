/**
 * The job page's Artifacts panel end to end: Debian's Chromium against a real coordinator and a real
 * agent process whose job writes a text file (with markup in it) and a PNG into
 * GIGAFACTORY_ARTIFACTS_DIR. The page lists both with size, digest and type; the text preview shows
 * the markup as text; the image preview renders; a download gives the exact bytes.
 */
import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ArtifactKind } from '../../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { launchBrowser, screenshot, signIn, type TestBrowser } from '../support/browser.js';
import { waitForStage } from '../support/jobs.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let agent: ManagedProcess;
let browser: TestBrowser;
let jobs: Client<typeof JobService>;
const workDir = mkdtempSync(join(tmpdir(), 'gigafactory-web-artifacts-'));

/** A 2×2 red PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAwMDAwMAAAA7oAf9Sx1hKAAAAAElFTkSuQmCC';
const TEXT = '<b>not bold</b> & a line\nsecond line\n';

beforeAll(async () => {
  server = await startTestServer();
  const transport = createConnectTransport({ baseUrl: server.httpUrl, httpVersion: '1.1' });
  jobs = createClient(JobService, transport);
  const admin = createClient(AdminService, transport);
  const viewerKey = (await admin.createApiKey({ name: 'reader', role: ApiKeyRole.VIEWER })).key;
  [agent, browser] = await Promise.all([spawnAgent({ coordinator: server.grpc.address, id: 'artifact-box', slots: 1, workDir: join(workDir, 'agent') }), launchBrowser()]);
  await signIn(browser.page, server.httpUrl, viewerKey);
});
afterAll(async () => {
  await browser?.close();
  await agent?.kill('SIGKILL');
  await server?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

it('lists a job\'s artifacts, previews text (as text) and images, and downloads the exact bytes', async () => {
  const script = [
    "const fs = require('fs'); const path = require('path'); const dir = process.env.GIGAFACTORY_ARTIFACTS_DIR;",
    `fs.mkdirSync(path.join(dir, 'reports'), { recursive: true });`,
    `fs.writeFileSync(path.join(dir, 'reports', 'summary.txt'), ${JSON.stringify(TEXT)});`,
    `fs.writeFileSync(path.join(dir, 'pixel.png'), Buffer.from(${JSON.stringify(PNG)}, 'base64'));`,
  ].join('\n');
  const { job } = await jobs.submitJob({ productId: 'web-artifacts', command: ['node', '-e', script] });
  await waitForStage(jobs, job!.id, JobStage.SUCCEEDED);
  // The result may be reported before the uploads are attached: wait for both files.
  for (;;) {
    const { artifacts } = await jobs.listArtifacts({ jobId: job!.id, kind: ArtifactKind.ARTIFACT });
    if (artifacts.length === 2) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const page = browser.page;
  await page.goto(`${server.httpUrl}/jobs/${job!.id}`);
  const text = page.locator('tr[data-artifact="reports/summary.txt"]');
  await text.waitFor();
  await expect(text.textContent()).resolves.toContain(`${Buffer.byteLength(TEXT)} B`);
  await expect(text.textContent()).resolves.toContain('text/plain');

  await text.getByRole('button', { name: 'Preview' }).click();
  const preview = page.locator('.artifact-preview pre');
  await preview.waitFor();
  expect(await preview.textContent()).toBe(TEXT);
  expect(await preview.locator('b').count()).toBe(0);

  const image = page.locator('tr[data-artifact="pixel.png"]');
  await image.getByRole('button', { name: 'Preview' }).click();
  const img = page.locator('img.artifact-image');
  await img.waitFor();
  await page.waitForFunction(() => (document.querySelector('img.artifact-image') as HTMLImageElement | null)?.naturalWidth === 2);
  await screenshot(page, 'job-artifacts');

  const [download] = await Promise.all([page.waitForEvent('download'), text.getByRole('button', { name: 'Download' }).click()]);
  expect(download.suggestedFilename()).toBe('summary.txt');
  expect(readFileSync((await download.path())!, 'utf8')).toBe(TEXT);
});

/**
 * Debian's Chromium driven by playwright-core (no browser download): headless, no sandbox (CI runs
 * as root), a fresh profile per launch, nothing reaching outside loopback.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.GIGAFACTORY_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'gigafactory-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    acceptDownloads: true,
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A full-page PNG in test-artifacts/screenshots/ (kept by CI as an artifact). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  // Let transitions and the throttled renders settle.
  await page.waitForTimeout(300);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}

export interface UiJobFields {
  product: string;
  command: string;
  title?: string;
  labels?: string;
  priority?: number;
  requireReview?: boolean;
}

/** Submits through the form on the Jobs page and resolves with the new job's id (from the URL). */
export async function submitThroughForm(page: Page, baseUrl: string, fields: UiJobFields): Promise<string> {
  await page.goto(`${baseUrl}/jobs`);
  await page.getByRole('button', { name: 'Submit a job' }).click();
  const form = page.getByRole('form', { name: 'Submit a job' });
  await form.locator('input[name=product]').fill(fields.product);
  if (fields.title) await form.locator('input[name=title]').fill(fields.title);
  await form.locator('input[name=command]').fill(fields.command);
  if (fields.labels) await form.locator('input[name=labels]').fill(fields.labels);
  if (fields.priority !== undefined) await form.locator('input[name=priority]').fill(String(fields.priority));
  if (fields.requireReview) await form.getByLabel('Hold for review before it counts as done').check();
  await form.getByRole('button', { name: 'Submit job' }).click();
  await page.waitForURL(/\/jobs\/job_[0-9A-Z]+$/);
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
}

/**
 * Calls an RPC from the page with the signed-in key, as a script in the tab could, bypassing the
 * buttons: proves the coordinator, not the UI, decides. `rpc` is "Service/Method".
 */
export async function forceRpc(page: Page, rpc: string, body: unknown): Promise<{ status: number; code: string; message: string }> {
  return page.evaluate(
    async ({ rpc, body }) => {
      const res = await fetch(`/gigafactory.fleet.v1.${rpc}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sessionStorage.getItem('gigafactory.apiKey')}` },
        body: JSON.stringify(body),
      });
      const answer = (await res.json()) as { code?: string; message?: string };
      return { status: res.status, code: answer.code ?? '', message: answer.message ?? '' };
    },
    { rpc, body },
  );
}

/** Signs in on the app's sign-in page with `key` and waits until the app has gone on to `next`. */
export async function signIn(page: Page, baseUrl: string, key: string, next = '/'): Promise<void> {
  await page.goto(`${baseUrl}/sign-in?next=${encodeURIComponent(next)}`);
  await page.locator('input[name=apiKey]').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}${next}`);
}

/**
 * Builds the browser control plane with Vite when dist/web is missing or was built from other
 * inputs (a hash of src/web, gen/ts and package-lock.json, kept beside the output). Used by
 * `npm start` (prestart), `npm run build:web` (--force) and the test run's global setup, so the
 * README's commands always serve a current app. Safe to run concurrently: one process builds under
 * a lock into a temporary directory that is swapped in whole.
 *
 *   tsx src/web/build.ts [--force]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WEB_DIST_DIR } from '../server/web-static.js';

const ROOT = join(import.meta.dirname, '..', '..');
const INPUTS = ['src/web/app', 'src/web/vite.config.ts', 'gen/ts', 'package-lock.json'];
const STAMP = '.build-inputs';
const LOCK = join(WEB_DIST_DIR, '..', '.web-build.lock');
const STALE_LOCK_MS = 180_000;

/** A hash of everything the build reads. */
export function webInputsHash(): string {
  const hash = createHash('sha256');
  const files: string[] = [];
  const walk = (path: string): void => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
    else files.push(path);
  };
  for (const input of INPUTS) walk(join(ROOT, input));
  for (const file of files) hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

function builtHash(): string | null {
  try {
    return readFileSync(join(WEB_DIST_DIR, STAMP), 'utf8').trim();
  } catch {
    return null;
  }
}

/** Builds when needed; resolves to what happened. */
export async function ensureWebBuild(opts: { force?: boolean; quiet?: boolean } = {}): Promise<'fresh' | 'built'> {
  let hash = webInputsHash();
  if (!opts.force && builtHash() === hash) return 'fresh';
  await withLock(async () => {
    hash = webInputsHash();
    if (!opts.force && builtHash() === hash) return; // another process built it meanwhile
    const { build } = await import('vite');
    const started = Date.now();
    const temp = `${WEB_DIST_DIR}.build-${process.pid}`;
    rmSync(temp, { recursive: true, force: true });
    await build({
      configFile: join(import.meta.dirname, 'vite.config.ts'),
      build: { outDir: temp },
      logLevel: opts.quiet ? 'error' : 'warn',
    });
    writeFileSync(join(temp, STAMP), `${hash}\n`);
    const old = `${WEB_DIST_DIR}.old-${process.pid}`;
    if (existsSync(WEB_DIST_DIR)) renameSync(WEB_DIST_DIR, old);
    renameSync(temp, WEB_DIST_DIR);
    rmSync(old, { recursive: true, force: true });
    if (!opts.quiet) console.log(`web control plane built into ${relative(ROOT, WEB_DIST_DIR)}/ in ${Date.now() - started} ms`);
  });
  return 'built';
}

async function withLock(body: () => Promise<void>): Promise<void> {
  mkdirSync(join(LOCK, '..'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    await body();
  } finally {
    rmdirSync(LOCK);
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  ensureWebBuild({ force: process.argv.includes('--force') }).then(
    (result) => {
      if (result === 'fresh') console.log(`web control plane in ${relative(ROOT, WEB_DIST_DIR)}/ is up to date`);
    },
    (err: unknown) => {
      console.error(`web control plane build failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

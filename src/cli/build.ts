/**
 * Compiles the `gigafactory` command to JavaScript in dist/cli/, so a call costs Node loading a few
 * files instead of tsx compiling the TypeScript (seconds per call). esbuild bundles src/cli/main.ts
 * with the code it imports from src/, gen/ts and agent/, and protobuf and the Connect client (see
 * BUNDLED_PACKAGES); other npm packages stay external (node_modules is beside it). Each dynamic
 * import() becomes its own chunk, so `--help` loads no gRPC stack.
 * Runs from `npm ci` (prepare), `npm start` (prestart), `npm run build:cli` and the test run's global
 * setup. The inputs it read are listed in dist/cli/inputs.json; bin/gigafactory.mjs runs the build
 * only while none of them is newer. Written to a temporary directory and swapped in whole, so a
 * concurrent call never loads half a build.
 *
 *   tsx src/cli/build.ts
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = join(import.meta.dirname, '..', '..');
export const CLI_DIST_DIR = join(ROOT, 'dist', 'cli');
/** Read by bin/gigafactory.mjs: { inputs: paths relative to the repository root }. */
export const CLI_INPUTS_FILE = 'inputs.json';

/**
 * The npm packages compiled into dist/cli instead of loaded from node_modules: protobuf and the
 * Connect client are ~140 small ES modules, and resolving and loading them one by one was most of
 * a client command's start-up. Bundled, esbuild also drops what the CLI never uses (the well-known
 * types' barrel alone boots a dozen descriptors). Bundled together, so the process has one copy of
 * each (ConnectError and messages are checked with instanceof); nothing left external imports them.
 */
const BUNDLED_PACKAGES = /^@(?:bufbuild\/protobuf|connectrpc\/connect|connectrpc\/connect-node)(?:\/|$)/;

/** Every bare import stays external (node_modules is beside dist/) except `bundled` ones. */
function bundleOnly(bundled: RegExp): Plugin {
  return {
    name: 'bundle-only',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => (bundled.test(args.path) ? undefined : { path: args.path, external: true }));
    },
  };
}

export async function buildCli(): Promise<{ modules: number; ms: number }> {
  const started = Date.now();
  const temp = `${CLI_DIST_DIR}.build-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  const result = await build({
    entryPoints: { main: join(ROOT, 'src', 'cli', 'main.ts') },
    outdir: temp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [bundleOnly(BUNDLED_PACKAGES)],
    // Chunks sit beside main.js, two levels under the root like the sources, so paths built from
    // import.meta.dirname (the web app in dist/web) resolve the same compiled or not.
    chunkNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => relative(ROOT, join(process.cwd(), input)));
  writeFileSync(join(temp, CLI_INPUTS_FILE), JSON.stringify({ inputs }) + '\n');
  const old = `${CLI_DIST_DIR}.old-${process.pid}`;
  if (existsSync(CLI_DIST_DIR)) renameSync(CLI_DIST_DIR, old);
  try {
    renameSync(temp, CLI_DIST_DIR);
  } catch (err) {
    // Another build swapped its own in between our two renames: same inputs, so keep theirs.
    if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    rmSync(temp, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  return { modules: inputs.length, ms: Date.now() - started };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  buildCli().then(
    ({ modules, ms }) => console.log(`gigafactory CLI compiled into ${relative(ROOT, CLI_DIST_DIR)}/ (${modules} modules, ${ms} ms)`),
    (err: unknown) => {
      console.error(`gigafactory CLI build failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

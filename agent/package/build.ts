/**
 * `npm run build:agent`: the packaged agent. esbuild bundles agent/main.ts and everything it imports
 * into one JavaScript file that Node ≥ 20 runs alone (no node_modules, no TypeScript, no native
 * module), writes it beside a package.json whose `bin` is `gigafactory-agent`, and `npm pack`s the
 * two (and docs/agent.md as README.md) into `gigafactory-agent-<version>.tgz`. So
 * `npm install -g ./gigafactory-agent-<version>.tgz`, or copying the one file, is the whole install.
 *
 *   tsx agent/package/build.ts [--out-dir DIR]     (default dist/agent)
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { VERSION } from '../../src/version.js';

const ROOT = join(import.meta.dirname, '..', '..');
export const AGENT_PACKAGE_NAME = 'gigafactory-agent';
export const AGENT_BUNDLE_FILE = 'gigafactory-agent.mjs';

export interface AgentPackage {
  /** The bundle, runnable on its own. */
  bundle: string;
  /** The npm package tarball. */
  tarball: string;
}

export async function buildAgentPackage(opts: { outDir?: string; progress?: (line: string) => void } = {}): Promise<AgentPackage> {
  const progress = opts.progress ?? (() => {});
  const outDir = resolve(opts.outDir ?? join(ROOT, 'dist', 'agent'));
  const packageDir = join(outDir, 'package');
  rmSync(packageDir, { recursive: true, force: true });
  mkdirSync(packageDir, { recursive: true });

  progress(`bundling agent/main.ts with esbuild`);
  const bundle = join(packageDir, AGENT_BUNDLE_FILE);
  const result = await build({
    entryPoints: [join(ROOT, 'agent', 'main.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Smaller source compiles faster: start-up is mostly V8 compiling the bundle.
    minify: true,
    legalComments: 'none',
    // The dependencies are CommonJS; in an ES module bundle their require() of Node's built-ins needs one.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as gfCreateRequire } from 'node:module';\nconst require = gfCreateRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  const native = Object.keys(result.metafile.inputs).filter((input) => input.endsWith('.node') || input.includes('better-sqlite3'));
  if (native.length > 0) throw new Error(`the agent bundle must not contain native modules, but it imports ${native.join(', ')}`);
  chmodSync(bundle, 0o755);
  progress(`bundled ${Object.keys(result.metafile.inputs).length} modules into ${AGENT_BUNDLE_FILE} (${Math.round(result.metafile.outputs[Object.keys(result.metafile.outputs)[0]!]!.bytes / 1024)} KiB)`);

  writeFileSync(
    join(packageDir, 'package.json'),
    JSON.stringify(
      {
        name: AGENT_PACKAGE_NAME,
        version: VERSION,
        description: 'Gigafactory factory agent: takes jobs from a Gigafactory coordinator and runs them on this machine.',
        license: 'Apache-2.0',
        type: 'module',
        bin: { [AGENT_PACKAGE_NAME]: AGENT_BUNDLE_FILE },
        files: [AGENT_BUNDLE_FILE, 'README.md'],
        engines: { node: '>=20.19' },
      },
      null,
      2,
    ) + '\n',
  );
  copyFileSync(join(ROOT, 'docs', 'agent.md'), join(packageDir, 'README.md'));

  progress('packing with npm pack');
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], { cwd: packageDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as { filename: string }[];
  const tarball = join(outDir, packed[0]!.filename);
  progress(`packed ${tarball}`);
  return { bundle, tarball };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out-dir');
  if (args.length > 0 && (at !== 0 || args.length !== 2)) {
    process.stderr.write('usage: tsx agent/package/build.ts [--out-dir DIR]\n');
    process.exit(2);
  }
  const { tarball } = await buildAgentPackage({ ...(at === 0 ? { outDir: args[1]! } : {}), progress: (line) => process.stderr.write(`build:agent: ${line}\n`) });
  process.stdout.write(`${tarball}\n`);
}

#!/usr/bin/env node
// The `gigafactory` command. It runs the JavaScript compiled into dist/cli/ by `npm ci` (prepare),
// `npm start` and `npm run build:cli`. When that build is missing, or one of the sources it was
// built from changed since, it says so and runs the TypeScript through tsx instead (seconds slower
// per call, but never stale). GIGAFACTORY_CLI_FROM_SOURCE=1 asks for tsx outright (the benchmark's
// baseline).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist', 'cli');

/** Why the compiled CLI cannot be used, or null when it can. */
function staleBuild() {
  let inputs;
  let builtAt;
  try {
    inputs = JSON.parse(readFileSync(join(dist, 'inputs.json'), 'utf8')).inputs;
    builtAt = statSync(join(dist, 'main.js')).mtimeMs;
  } catch {
    return 'dist/cli/ is not built';
  }
  for (const input of inputs) {
    let changedAt;
    try {
      changedAt = statSync(join(root, input)).mtimeMs;
    } catch {
      return `${input} is gone since dist/cli/ was built`;
    }
    if (changedAt > builtAt) return `${input} changed since dist/cli/ was built`;
  }
  return null;
}

const why = process.env.GIGAFACTORY_CLI_FROM_SOURCE === '1' ? 'from source' : staleBuild();
if (why === null) {
  await import('../dist/cli/main.js');
} else {
  if (why !== 'from source') process.stderr.write(`gigafactory: ${why}; running the TypeScript through tsx (slower). Run 'npm run build:cli' to compile it.\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}

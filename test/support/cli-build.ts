/**
 * Vitest global setup: compiles the CLI (src/cli → dist/cli), so the tests that run
 * bin/gigafactory.mjs exercise the JavaScript users run, built from the current sources.
 */
import { buildCli } from '../../src/cli/build.js';

export default async function setup(): Promise<void> {
  await buildCli();
}

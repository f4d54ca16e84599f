/**
 * Vitest global setup: builds the browser control plane (src/web → dist/web) when it is missing or
 * was built from other sources, so the browser tests always exercise the current app. A no-op
 * (a hash of the inputs) when the build is current.
 */
import { ensureWebBuild } from '../../src/web/build.js';

export default async function setup(): Promise<void> {
  await ensureWebBuild({ quiet: true });
}

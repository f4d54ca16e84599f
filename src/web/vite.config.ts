/**
 * Vite build of the browser control plane: src/web/app → dist/web, served by the coordinator's HTTP
 * listener at `/`. The app imports the generated descriptors from gen/ts directly (their `.js`
 * import suffixes resolve to the `.ts` sources). `npm run web:dev` serves it with hot reload and
 * proxies the RPC paths to a coordinator on 127.0.0.1:8080 (GIGAFACTORY_WEB_DEV_TARGET overrides).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  root: `${here}app`,
  base: '/',
  publicDir: false,
  clearScreen: false,
  build: {
    outDir: `${repoRoot}dist/web`,
    emptyOutDir: true,
    target: 'es2022',
    // The served app ships no source maps: its sources are in the repository, not on the wire.
    sourcemap: false,
    reportCompressedSize: false,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: {
    fs: { allow: [repoRoot] },
    proxy: { '^/gigafactory\\.': process.env.GIGAFACTORY_WEB_DEV_TARGET ?? 'http://127.0.0.1:8080' },
  },
});

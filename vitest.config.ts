import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the web control plane for the browser tests when its sources changed, and compiles
    // the CLI that tests run as a process.
    globalSetup: ['test/support/web-build.ts', 'test/support/cli-build.ts'],
    // Integration tests start real servers and processes; two cores, so keep parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest.json' }]],
  },
});

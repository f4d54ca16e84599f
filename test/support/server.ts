/** A real coordinator on loopback ephemeral ports over a real SQLite file in a fresh temp dir. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServeConfigSchema, type ServeConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { startServer, type RunningServer } from '../../src/server/app.js';
import type { Clock } from '../../src/coordinator/clock.js';

export interface TestServer extends RunningServer {
  dataDir: string;
  grpcUrl: string;
  httpUrl: string;
  /** Closes the server and removes its data dir. */
  stop(): Promise<void>;
}

/**
 * Security is off (loopback development mode) unless `insecureDev: false` is passed, so tests about
 * anything else need no credentials; test/security/ turns it on.
 */
export async function startTestServer(overrides: Partial<ServeConfig> = {}, opts: { clock?: Clock } = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'gigafactory-test-'));
  const config = ServeConfigSchema.parse({ grpcPort: 0, httpPort: 0, logLevel: 'silent', shutdownGraceMs: 250, insecureDev: true, ...overrides, dataDir });
  const log = createLogger({ level: process.env.GIGAFACTORY_TEST_LOG_LEVEL === undefined ? config.logLevel : (process.env.GIGAFACTORY_TEST_LOG_LEVEL as ServeConfig['logLevel']), pretty: false });
  const server = await startServer({ config, log, ...(opts.clock ? { clock: opts.clock } : {}) });
  return {
    ...server,
    dataDir,
    grpcUrl: `http://${server.grpc.address}`,
    httpUrl: `http://${server.http.address}`,
    async stop() {
      await server.close();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `gigafactory serve`: runs the coordinator until SIGTERM/SIGINT, then shuts down in order. */
import { Command } from 'commander';
import { resolveServeConfig } from '../config.js';
import { createLogger } from '../logging.js';
import { startServer } from '../server/app.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the coordinator (SQLite in --data-dir, gRPC and HTTP listeners)')
    .option('--data-dir <dir>', 'where the SQLite store lives [env GIGAFACTORY_DATA_DIR] (default ".gigafactory")')
    .option('--host <host>', 'address both listeners bind [env GIGAFACTORY_HOST] (default 127.0.0.1)')
    .option('--grpc-port <port>', 'native gRPC (h2c) port [env GIGAFACTORY_GRPC_PORT] (default 7070)')
    .option('--http-port <port>', 'Connect/gRPC-Web/HTTP port [env GIGAFACTORY_HTTP_PORT] (default 8080)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace [env GIGAFACTORY_LOG_LEVEL]')
    .option('--cors-origins <list>', 'comma-separated browser origins allowed [env GIGAFACTORY_CORS_ORIGINS]')
    .option('--max-message-bytes <n>', 'largest accepted message [env GIGAFACTORY_MAX_MESSAGE_BYTES] (default 4 MiB)')
    .action(async (flags: Record<string, unknown>) => {
      let config;
      try {
        config = resolveServeConfig(flags, process.env);
      } catch (err) {
        process.stderr.write(`gigafactory serve: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const log = createLogger({ level: config.logLevel });
      const server = await startServer({ config, log });
      const stop = (signal: string): void => {
        log.info({ signal }, 'signal received');
        server.close().then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}

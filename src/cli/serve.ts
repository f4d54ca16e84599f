/**
 * `gigafactory serve`'s flags (shared with `config print`); what it runs is in serve-run.ts, loaded
 * only when it runs, so the rest of the CLI starts without the server's modules.
 */
import { Command } from 'commander';

/** The settings flags, shared by `serve` and `config print` so both see the same configuration. */
export function withServeOptions(command: Command): Command {
  return command
    .option('--config <file>', 'YAML or JSON file of settings (lowest precedence) [env GIGAFACTORY_CONFIG]')
    .option('--data-dir <dir>', 'where the SQLite store lives [env GIGAFACTORY_DATA_DIR] (default ".gigafactory")')
    .option('--host <host>', 'address both listeners bind [env GIGAFACTORY_HOST] (default 127.0.0.1)')
    .option('--grpc-port <port>', 'native gRPC (h2c) port [env GIGAFACTORY_GRPC_PORT] (default 7070)')
    .option('--http-port <port>', 'Connect/gRPC-Web/HTTP port [env GIGAFACTORY_HTTP_PORT] (default 8080)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace [env GIGAFACTORY_LOG_LEVEL]')
    .option('--cors-origins <list>', 'comma-separated browser origins allowed [env GIGAFACTORY_CORS_ORIGINS]')
    .option('--max-message-bytes <n>', 'largest accepted message [env GIGAFACTORY_MAX_MESSAGE_BYTES] (default 4 MiB)')
    .option('--store <kind>', 'sqlite (one coordinator) or cosmos (several replicas) [env GIGAFACTORY_STORE] (default sqlite)')
    .option('--cosmos-endpoint <url>', 'Cosmos DB account endpoint, for --store cosmos [env GIGAFACTORY_COSMOS_ENDPOINT]')
    .option('--cosmos-key <key>', 'Cosmos DB account key; prefer the environment variable [env GIGAFACTORY_COSMOS_KEY]')
    .option('--cosmos-database <name>', 'Cosmos DB database, created when missing [env GIGAFACTORY_COSMOS_DATABASE] (default "gigafactory")')
    .option('--blob-connection-string <s>', 'Azure Storage connection string for artifact blobs, with --store cosmos; prefer the environment variable [env GIGAFACTORY_BLOB_CONNECTION_STRING]')
    .option('--blob-endpoint <url>', 'Azure Blob endpoint (https://<account>.blob.core.windows.net) for artifact blobs, with --store cosmos [env GIGAFACTORY_BLOB_ENDPOINT]')
    .option('--blob-key <key>', 'Azure Storage account key for --blob-endpoint; prefer the environment variable [env GIGAFACTORY_BLOB_KEY]')
    .option('--blob-container <name>', 'Azure Blob container for artifacts, created when missing [env GIGAFACTORY_BLOB_CONTAINER] (default "gigafactory-artifacts")')
    .option('--max-stream-age-ms <ms>', 'goodbye to factory streams this old so they rebalance; 0 = never [env GIGAFACTORY_MAX_STREAM_AGE_MS] (default: never on sqlite, 30 min on cosmos)')
    .option('--insecure-dev', 'development only: accept calls without credentials; loopback hosts only [env GIGAFACTORY_INSECURE_DEV]')
    .option('--tls-cert-file <file>', 'PEM certificate chain: both listeners serve TLS [env GIGAFACTORY_TLS_CERT_FILE]')
    .option('--tls-key-file <file>', 'PEM private key of the certificate [env GIGAFACTORY_TLS_KEY_FILE]')
    .option('--tls-client-ca-file <file>', 'PEM CA: the gRPC listener requires client certificates it signed (mTLS) [env GIGAFACTORY_TLS_CLIENT_CA_FILE]')
    .option('--tracker-echo-url <url>', 'POST signed status webhooks for tracker jobs here [env GIGAFACTORY_TRACKER_ECHO_URL]')
    .option('--tracker-echo-secret <secret>', 'HMAC-SHA256 key for the webhooks; prefer the environment variable [env GIGAFACTORY_TRACKER_ECHO_SECRET]');
}

export function serveCommand(): Command {
  return withServeOptions(new Command('serve').description('run the coordinator (SQLite in --data-dir, or Cosmos DB with --store cosmos; gRPC and HTTP listeners)'))
    .option('--local-agent [slots]', 'also run a factory agent in this process (id "local", work dir <data-dir>/agent)')
    .option('--local-agent-user <name>', "run the local agent's jobs as this account (needs root); required with security on")
    .action(async ({ localAgent, localAgentUser, ...flags }: Record<string, unknown>) => (await import('./serve-run.js')).serve(flags, localAgent, localAgentUser as string | undefined));
}

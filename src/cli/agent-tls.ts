/**
 * The agent's grpc-js channel credentials, made from the TLS files the CLI reads too (tls.ts). A
 * module of its own so the CLI's client commands, which speak Connect, never load grpc-js.
 */
import * as grpc from '@grpc/grpc-js';
import type { ClientSecurity } from './connection-options.js';
import { readTlsFiles } from './tls.js';

/** grpc-js channel credentials for the agent: TLS when any TLS option is given, h2c otherwise. */
export function agentChannelCredentials(sec: ClientSecurity): grpc.ChannelCredentials {
  const files = readTlsFiles(sec);
  if (!files) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(files.ca ?? null, files.key ?? null, files.cert ?? null);
}

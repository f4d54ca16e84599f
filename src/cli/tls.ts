/**
 * The CLI's and the agent's TLS files (`--tls-ca`, `--tls-cert`, `--tls-key`), read once per client,
 * and the agent's grpc-js credentials made from them. Apart from client.ts so the packaged agent does
 * not carry the CLI's Connect clients.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { usesTls, type ClientSecurity } from './connection-options.js';

/** grpc-js channel credentials for the agent: TLS when any TLS option is given, h2c otherwise. */
export function agentChannelCredentials(sec: ClientSecurity): grpc.ChannelCredentials {
  const files = readTlsFiles(sec);
  if (!files) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(files.ca ?? null, files.key ?? null, files.cert ?? null);
}

export function readTlsFiles(sec: ClientSecurity): { ca?: Buffer; cert?: Buffer; key?: Buffer } | null {
  if (!usesTls(sec)) return null;
  if (Boolean(sec.tlsCert) !== Boolean(sec.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
  const read = (flag: string, path: string | undefined): Buffer | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${flag}: cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const files: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  const ca = read('--tls-ca', sec.tlsCa);
  const cert = read('--tls-cert', sec.tlsCert);
  const key = read('--tls-key', sec.tlsKey);
  if (ca) files.ca = ca;
  if (cert) files.cert = cert;
  if (key) files.key = key;
  return files;
}

/**
 * The CLI's and the agent's TLS files (`--tls-ca`, `--tls-cert`, `--tls-key`), read once per client.
 * Apart from client.ts so the packaged agent does not carry the CLI's Connect clients, and from
 * agent-tls.ts so the CLI's commands do not load grpc-js.
 */
import { readFileSync } from 'node:fs';
import { usesTls, type ClientSecurity } from './connection-options.js';

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

/** Clients for CLI commands: native gRPC over HTTP/2 to the coordinator's gRPC listener. */
import { createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import type { DescService } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { TrackerService } from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';

/** How the CLI and the agent reach the coordinator: the global options `--key`, `--tls-*`. */
export interface ClientSecurity {
  /** API key, sent as `authorization: Bearer`. */
  key?: string;
  /** CA bundle to verify the coordinator's certificate; switches to TLS. */
  tlsCa?: string;
  /** Client certificate and key, for a listener that requires mTLS; switch to TLS too. */
  tlsCert?: string;
  tlsKey?: string;
}

export function usesTls(sec: ClientSecurity): boolean {
  return Boolean(sec.tlsCa || sec.tlsCert || sec.tlsKey);
}

/** Accepts "host:port" or a full http(s) URL; "host:port" becomes https when TLS options are given. */
export function coordinatorUrl(address: string, tls = false): string {
  return /^https?:\/\//.test(address) ? address : `${tls ? 'https' : 'http'}://${address}`;
}

export function jobClient(address: string, sec: ClientSecurity = {}): Client<typeof JobService> {
  return client(JobService, address, sec);
}

export function trackerClient(address: string, sec: ClientSecurity = {}): Client<typeof TrackerService> {
  return client(TrackerService, address, sec);
}

export function adminClient(address: string, sec: ClientSecurity = {}): Client<typeof AdminService> {
  return client(AdminService, address, sec);
}

function client<S extends DescService>(service: S, address: string, sec: ClientSecurity): Client<S> {
  const files = readTlsFiles(sec);
  const interceptors: Interceptor[] = sec.key
    ? [
        (next) => (req) => {
          req.header.set('authorization', `Bearer ${sec.key}`);
          return next(req);
        },
      ]
    : [];
  return createClient(
    service,
    createGrpcTransport({
      baseUrl: coordinatorUrl(address, usesTls(sec)),
      interceptors,
      ...(files ? { nodeOptions: { ...(files.ca ? { ca: files.ca } : {}), ...(files.cert ? { cert: files.cert } : {}), ...(files.key ? { key: files.key } : {}) } } : {}),
    }),
  );
}

/** grpc-js channel credentials for the agent: TLS when any TLS option is given, h2c otherwise. */
export function agentChannelCredentials(sec: ClientSecurity): grpc.ChannelCredentials {
  const files = readTlsFiles(sec);
  if (!files) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(files.ca ?? null, files.key ?? null, files.cert ?? null);
}

function readTlsFiles(sec: ClientSecurity): { ca?: Buffer; cert?: Buffer; key?: Buffer } | null {
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

/**
 * Clients for CLI commands: native gRPC over HTTP/2 to the coordinator's gRPC listener. A command
 * names the service it calls (serviceClient) so it loads that service's generated code only: each
 * generated file boots its descriptors when loaded, which is start-up time a command not calling it
 * should not pay. JobService, which most commands call, has its own shorthand.
 */
import { createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import type { DescService } from '@bufbuild/protobuf';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { usesTls, type ClientSecurity } from './connection-options.js';
import { readTlsFiles } from './tls.js';

/** Accepts "host:port" or a full http(s) URL; "host:port" becomes https when TLS options are given. */
export function coordinatorUrl(address: string, tls = false): string {
  return /^https?:\/\//.test(address) ? address : `${tls ? 'https' : 'http'}://${address}`;
}

export function jobClient(address: string, sec: ClientSecurity = {}): Client<typeof JobService> {
  return serviceClient(JobService, address, sec);
}

export function serviceClient<S extends DescService>(service: S, address: string, sec: ClientSecurity = {}): Client<S> {
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

/** Clients for CLI commands: native gRPC over HTTP/2 to the coordinator's gRPC listener. */
import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import type { DescService } from '@bufbuild/protobuf';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { TrackerService } from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import { ScheduleService } from '../../gen/ts/gigafactory/fleet/v1/schedule_service_pb.js';
import { usesTls, type ClientSecurity } from './connection-options.js';
import { readTlsFiles } from './tls.js';

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

export function scheduleClient(address: string, sec: ClientSecurity = {}): Client<typeof ScheduleService> {
  return client(ScheduleService, address, sec);
}

function client<S extends DescService>(service: S, address: string, sec: ClientSecurity): Client<S> {
  return createClient(service, transportFor(address, sec));
}

/** The gRPC transport to the coordinator with the API key and TLS files given: for a client of any service. */
export function transportFor(address: string, sec: ClientSecurity = {}): Transport {
  const files = readTlsFiles(sec);
  const interceptors: Interceptor[] = sec.key
    ? [
        (next) => (req) => {
          req.header.set('authorization', `Bearer ${sec.key}`);
          return next(req);
        },
      ]
    : [];
  return createGrpcTransport({
    baseUrl: coordinatorUrl(address, usesTls(sec)),
    interceptors,
    ...(files ? { nodeOptions: { ...(files.ca ? { ca: files.ca } : {}), ...(files.cert ? { cert: files.cert } : {}), ...(files.key ? { key: files.key } : {}) } } : {}),
  });
}

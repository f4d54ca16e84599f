/** Clients for CLI commands: native gRPC over HTTP/2 to the coordinator's gRPC listener. */
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';

export const DEFAULT_COORDINATOR = '127.0.0.1:7070';

/** Accepts "host:port" or a full http(s) URL. */
export function coordinatorUrl(address: string): string {
  return /^https?:\/\//.test(address) ? address : `http://${address}`;
}

export function jobClient(address: string): Client<typeof JobService> {
  return createClient(JobService, createGrpcTransport({ baseUrl: coordinatorUrl(address) }));
}

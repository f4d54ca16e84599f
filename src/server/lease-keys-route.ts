/**
 * GET /.well-known/gigafactory-lease-keys on the HTTP listener: the public keys lease tokens are
 * signed with, as the JSON of LeaseService.ListLeaseKeys, without a credential (they are public,
 * and a system verifying tokens offline should not need one). Cached briefly: keys rotate daily.
 */
import { toJsonString } from '@bufbuild/protobuf';
import { ListLeaseKeysResponseSchema } from '../../gen/ts/gigafactory/fleet/v1/lease_service_pb.js';
import { listLeaseKeysResponse } from '../api/lease-service.js';
import type { LeaseKeys } from '../coordinator/lease-keys.js';
import type { HttpRoute } from './health.js';

export const LEASE_KEYS_PATH = '/.well-known/gigafactory-lease-keys';

export function leaseKeysRoute(keys: LeaseKeys): HttpRoute {
  return (req, res) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (req.url ?? '').split('?')[0] !== LEASE_KEYS_PATH) return false;
    const body = toJsonString(ListLeaseKeysResponseSchema, listLeaseKeysResponse(keys)) + '\n';
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'max-age=60' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}

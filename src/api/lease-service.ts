/**
 * LeaseService: the online check of a job's lease token, and the public keys for checking it
 * offline. Both are reads; the keys are public (also served without a credential at
 * /.well-known/gigafactory-lease-keys, see server/lease-keys-route.ts).
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import { CheckResponseSchema, ListLeaseKeysResponseSchema, type LeaseService, type ListLeaseKeysResponse } from '../../gen/ts/gigafactory/fleet/v1/lease_service_pb.js';
import type { Clock } from '../coordinator/clock.js';
import { checkLease } from '../coordinator/lease-check.js';
import type { LeaseKeys } from '../coordinator/lease-keys.js';
import type { JobStore } from '../store/job-store.js';

/** The published keys as ListLeaseKeys answers them; the well-known route serves its JSON form. */
export function listLeaseKeysResponse(keys: LeaseKeys): ListLeaseKeysResponse {
  return create(ListLeaseKeysResponseSchema, {
    keys: keys.published().map((k) => ({ keyId: k.keyId, algorithm: 'Ed25519', publicKey: k.publicKey, createTime: timestampFromMs(k.createdAt) })),
  });
}

export function leaseServiceImpl(keys: LeaseKeys, store: Pick<JobStore, 'getJob'>, clock: Clock): Partial<ServiceImpl<typeof LeaseService>> {
  return {
    async check(req) {
      const verdict = await checkLease(keys, store, clock, req.token);
      const c = verdict.claims;
      return create(CheckResponseSchema, {
        current: verdict.current,
        reason: verdict.reason,
        currentEpoch: BigInt(verdict.currentEpoch),
        ...(c ? { claims: { jobId: c.jobId, epoch: BigInt(c.epoch), factoryId: c.factoryId, expireTime: timestampFromMs(c.expiresAt), keyId: c.keyId } } : {}),
      });
    },

    async listLeaseKeys() {
      return listLeaseKeysResponse(keys);
    },
  };
}

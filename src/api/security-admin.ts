/**
 * The credential RPCs of AdminService (enrollment tokens, factory revocation and rotation, API keys)
 * and FactoryService.Enroll. Who may call them is decided by the auth interceptor's table; these
 * handlers validate, act, and write one audit line naming the actor (never a secret).
 */
import { create } from '@bufbuild/protobuf';
import { durationMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import {
  CreateApiKeyResponseSchema,
  CreateEnrollmentTokenResponseSchema,
  GetCallerResponseSchema,
  ListApiKeysResponseSchema,
  RevokeApiKeyResponseSchema,
  RevokeFactoryResponseSchema,
  RotateFactoryTokenResponseSchema,
  type AdminService,
} from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { ApiKeyRole, ApiKeySchema, LabelGrantSchema, type ApiKey, type LabelGrant } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { EnrollResponseSchema, type FactoryService } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import type { FactoryStreams } from '../coordinator/factory-streams.js';
import type { OpenStreams } from '../coordinator/open-streams.js';
import { keyRevoked, type Security } from '../coordinator/security.js';
import { DomainError, invalidArgument } from '../domain/errors.js';
import type * as domain from '../domain/credentials.js';
import type { Logger } from '../logging.js';
import type { ApiKeyRecord } from '../store/security-store.js';
import { actorOf } from './actor.js';
import { principalOf } from './principal.js';
import { requestLog } from './request-context.js';

/** The AdminService methods implemented here; admin-service.ts implements the others. */
export type SecurityAdminMethod = 'createEnrollmentToken' | 'revokeFactory' | 'rotateFactoryToken' | 'createApiKey' | 'listApiKeys' | 'revokeApiKey' | 'getCaller';

export interface SecurityDeps {
  security: Security;
  streams: FactoryStreams;
  /** WatchJobs and TailLogs streams, ended when their key is revoked. */
  followers: OpenStreams;
  log: Logger;
  /** The least role each API-key RPC needs, keyed by "Service/Method" (server/access.ts). */
  requiredRoles: Readonly<Record<string, domain.Role>>;
}

const ROLE_TO_WIRE: Record<domain.Role, ApiKeyRole> = { viewer: ApiKeyRole.VIEWER, operator: ApiKeyRole.OPERATOR, admin: ApiKeyRole.ADMIN };
const ROLE_FROM_WIRE = new Map(Object.entries(ROLE_TO_WIRE).map(([k, v]) => [v, k as domain.Role]));

export function securityAdminImpl({ security, streams, followers, log, requiredRoles }: SecurityDeps): Pick<ServiceImpl<typeof AdminService>, SecurityAdminMethod> {
  const audit = (ctx: HandlerContext, action: string, detail: Record<string, unknown>): void =>
    requestLog(ctx, log).info({ audit: action, actor: actorOf(ctx), ...detail }, 'audit');
  return {
    async createEnrollmentToken(req, ctx) {
      const { token, record } = await security.createEnrollmentToken(
        {
          ttlMs: req.ttl ? durationMs(req.ttl) : 0,
          allowedLabels: req.allowedLabels.map(grantFromWire),
          allowedProducts: [...req.allowedProducts],
          factoryId: req.factoryId,
          description: req.description,
        },
        actorOf(ctx),
      );
      audit(ctx, 'enrollment_token_created', { tokenId: record.id, factoryId: record.factoryId || '*', expiresAt: new Date(record.expiresAt).toISOString() });
      return create(CreateEnrollmentTokenResponseSchema, { token, tokenId: record.id, expireTime: timestampFromMs(record.expiresAt) });
    },

    async revokeFactory(req, ctx) {
      const record = await security.revokeFactory(req.factoryId, actorOf(ctx), req.reason);
      const closed = streams.revoke(req.factoryId, `credentials revoked by ${actorOf(ctx)}${req.reason ? `: ${req.reason}` : ''}`);
      audit(ctx, 'factory_revoked', { factoryId: req.factoryId, closedStreams: closed, reason: req.reason });
      return create(RevokeFactoryResponseSchema, { closedStreams: closed, revokeTime: timestampFromMs(record.revokedAt!) });
    },

    async rotateFactoryToken(req, ctx) {
      if (!req.factoryId) throw invalidArgument('factory_id is required');
      const { token, previousExpiresAt } = await security.rotateFactoryToken(req.factoryId);
      const delivered = streams.deliverToken(req.factoryId, token, previousExpiresAt);
      audit(ctx, 'factory_token_rotated', { factoryId: req.factoryId, delivered, previousExpiresAt: new Date(previousExpiresAt).toISOString() });
      return create(RotateFactoryTokenResponseSchema, { factoryToken: token, previousTokenExpireTime: timestampFromMs(previousExpiresAt), delivered });
    },

    async createApiKey(req, ctx) {
      const role = ROLE_FROM_WIRE.get(req.role);
      if (!role) throw invalidArgument('role must be API_KEY_ROLE_VIEWER, API_KEY_ROLE_OPERATOR or API_KEY_ROLE_ADMIN');
      const { key, record } = await security.createApiKey(req.name, role, actorOf(ctx));
      audit(ctx, 'api_key_created', { keyName: record.name, role });
      return create(CreateApiKeyResponseSchema, { key, apiKey: apiKeyToWire(record) });
    },

    async listApiKeys() {
      return create(ListApiKeysResponseSchema, { apiKeys: (await security.listApiKeys()).map(apiKeyToWire) });
    },

    async revokeApiKey(req, ctx) {
      const record = await security.revokeApiKey(req.name, actorOf(ctx));
      const closedStreams = followers.closeKey(record.id, keyRevoked(record));
      audit(ctx, 'api_key_revoked', { keyName: record.name, closedStreams });
      return create(RevokeApiKeyResponseSchema, { apiKey: apiKeyToWire(record) });
    },

    getCaller(_req, ctx) {
      const principal = principalOf(ctx);
      // Only API keys (and development mode) pass the access check for this RPC.
      const development = principal.kind === 'dev';
      const role = principal.kind === 'key' ? principal.role : 'admin';
      return create(GetCallerResponseSchema, {
        name: actorOf(ctx),
        role: ROLE_TO_WIRE[role],
        development,
        requiredRoles: Object.fromEntries(Object.entries(requiredRoles).map(([rpc, needed]) => [rpc, ROLE_TO_WIRE[needed]])),
      });
    },
  };
}

/** FactoryService.Enroll: the enrollment token was checked by the interceptor; redeem it once. */
export function enrollImpl({ security, log }: Pick<SecurityDeps, 'security' | 'log'>): Pick<ServiceImpl<typeof FactoryService>, 'enroll'> {
  return {
    async enroll(req, ctx) {
      const principal = principalOf(ctx);
      if (principal.kind !== 'enrollment') throw new DomainError('unauthenticated', 'Enroll needs an enrollment token (authorization: Bearer gfe_...)');
      const { token, credential } = await security.enroll(principal, req.factoryId);
      requestLog(ctx, log).info({ audit: 'factory_enrolled', factoryId: credential.factoryId, enrollmentTokenId: principal.tokenId }, 'audit');
      return create(EnrollResponseSchema, {
        factoryId: credential.factoryId,
        factoryToken: token,
        allowedLabels: credential.allowedLabels.map((g) => create(LabelGrantSchema, g)),
        allowedProducts: credential.allowedProducts,
      });
    },
  };
}

export function grantFromWire(g: LabelGrant): domain.LabelGrant {
  return { key: g.key, values: [...g.values] };
}

export function roleFromWire(role: ApiKeyRole): domain.Role | undefined {
  return ROLE_FROM_WIRE.get(role);
}

function apiKeyToWire(k: ApiKeyRecord): ApiKey {
  return create(ApiKeySchema, {
    name: k.name,
    role: ROLE_TO_WIRE[k.role],
    createTime: timestampFromMs(k.createdAt),
    createdBy: k.createdBy,
    revokeTime: k.revokedAt === null ? undefined : timestampFromMs(k.revokedAt),
  });
}

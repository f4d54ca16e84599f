/**
 * The protobuf side of the admin commands (admin-commands.ts), loaded when one of them runs so
 * that `gigafactory --help` does not load protobuf.
 */
import { create, toJson, type JsonValue } from '@bufbuild/protobuf';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';

// Named, not `import('@bufbuild/protobuf/wkt')` where it is used: a dynamic import of the whole
// module keeps every well-known type in the compiled CLI, and each boots a descriptor at load.
export { durationFromMs } from '@bufbuild/protobuf/wkt';
import { ApiKeyRole, ApiKeySchema, LabelGrantSchema, type ApiKey, type LabelGrant } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import type { Role } from '../domain/credentials.js';

const ROLE_TO_WIRE: Record<Role, ApiKeyRole> = { viewer: ApiKeyRole.VIEWER, operator: ApiKeyRole.OPERATOR, admin: ApiKeyRole.ADMIN };

export function roleToWire(role: Role): ApiKeyRole {
  return ROLE_TO_WIRE[role];
}

export function roleName(role: ApiKeyRole): string | undefined {
  return ApiKeyRole[role]?.toLowerCase();
}

export function apiKeyJson(key: ApiKey): JsonValue {
  return toJson(ApiKeySchema, key);
}

export function labelGrant(grant: { key: string; values: string[] }): LabelGrant {
  return create(LabelGrantSchema, grant);
}

export function time(ts: Timestamp | undefined): string {
  return ts ? timestampDate(ts).toISOString() : '-';
}

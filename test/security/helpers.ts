/**
 * Helpers for the security tests: a coordinator with security on (development mode off), keys of
 * every role, clients on both listeners that send a bearer token, and enrolled factories.
 */
import type { DescService } from '@bufbuild/protobuf';
import { createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import type { ServeConfig } from '../../src/config.js';
import type { Role } from '../../src/domain/credentials.js';
import { startTestServer, type TestServer } from '../support/server.js';

export interface SecureServer extends TestServer {
  keys: Record<Role, string>;
}

/** Security on, one key per role (named after the role). */
export async function startSecureServer(overrides: Partial<ServeConfig> = {}): Promise<SecureServer> {
  const server = await startTestServer({ insecureDev: false, ...overrides });
  const keys = {} as Record<Role, string>;
  for (const role of ['viewer', 'operator', 'admin'] as const) keys[role] = (await server.security.createApiKey(role, role, 'test')).key;
  return Object.assign(server, { keys });
}

export function bearer(token: string | null): Interceptor[] {
  if (token === null) return [];
  return [
    (next) => (req) => {
      req.header.set('authorization', token.startsWith('raw:') ? token.slice(4) : `Bearer ${token}`);
      return next(req);
    },
  ];
}

/** Native gRPC on the h2c listener. */
export function grpcClient<S extends DescService>(service: S, server: TestServer, token: string | null): Client<S> {
  return createClient(service, createGrpcTransport({ baseUrl: server.grpcUrl, interceptors: bearer(token) }));
}

/** Connect (JSON) over HTTP/1.1 on the gateway, as a browser or curl would. */
export function gatewayClient<S extends DescService>(service: S, server: TestServer, token: string | null): Client<S> {
  return createClient(service, createConnectTransport({ baseUrl: server.httpUrl, httpVersion: '1.1', interceptors: bearer(token) }));
}

/** Enrolls a factory through the coordinator's own Security (the RPC path is tested separately). */
export async function enrolledFactory(
  server: TestServer,
  factoryId: string,
  grants: { key: string; values: string[] }[] = [],
  products: string[] = [],
): Promise<string> {
  const { token: enrollment } = await server.security.createEnrollmentToken({ ttlMs: 0, allowedLabels: grants, allowedProducts: products, factoryId: '', description: '' }, 'test');
  const principal = await server.security.authenticate(enrollment);
  if (principal.kind !== 'enrollment') throw new Error('expected an enrollment principal');
  return (await server.security.enroll(principal, factoryId)).token;
}

/** Resolves with the code of the call's failure, or 'ok'. */
export async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (err) {
    const code = (err as { code?: number }).code;
    return code === undefined ? `error: ${String(err)}` : codeName(code);
  }
}

const CODE_NAMES: Record<number, string> = {
  1: 'Canceled',
  2: 'Unknown',
  3: 'InvalidArgument',
  4: 'DeadlineExceeded',
  5: 'NotFound',
  6: 'AlreadyExists',
  7: 'PermissionDenied',
  8: 'ResourceExhausted',
  9: 'FailedPrecondition',
  10: 'Aborted',
  12: 'Unimplemented',
  13: 'Internal',
  14: 'Unavailable',
  16: 'Unauthenticated',
};

export function codeName(code: number): string {
  return CODE_NAMES[code] ?? String(code);
}

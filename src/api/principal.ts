/** The authenticated caller of an RPC, put in the handler context by the auth interceptor. */
import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import type { Principal } from '../domain/credentials.js';

export const principalKey = createContextKey<Principal>({ kind: 'dev' }, { description: 'who is calling (from the bearer token)' });

export function principalOf(ctx: Pick<HandlerContext, 'values'>): Principal {
  return ctx.values.get(principalKey);
}

/** Whether the caller may see the values of secret-named env variables (docs/security.md): not a viewer key. */
export function seesSecretEnv(ctx: Pick<HandlerContext, 'values'>): boolean {
  const principal = principalOf(ctx);
  return !(principal.kind === 'key' && principal.role === 'viewer');
}

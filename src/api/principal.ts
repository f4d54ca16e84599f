/** The authenticated caller of an RPC, put in the handler context by the auth interceptor. */
import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import type { Principal } from '../domain/credentials.js';

export const principalKey = createContextKey<Principal>({ kind: 'dev' }, { description: 'who is calling (from the bearer token)' });

export function principalOf(ctx: Pick<HandlerContext, 'values'>): Principal {
  return ctx.values.get(principalKey);
}

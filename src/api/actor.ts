/**
 * Who is calling, as recorded on job events: the API key's name (set by the auth interceptor,
 * server/auth.ts), or "api" for a call without a key in loopback development mode.
 */
import { createContextKey, type HandlerContext } from '@connectrpc/connect';

export const actorKey = createContextKey<string>('api', { description: 'name recorded on events for this caller' });

export function actorOf(ctx: HandlerContext): string {
  return ctx.values.get(actorKey);
}

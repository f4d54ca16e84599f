/** Who is calling, as recorded on job events. Until operator keys exist (security issue) it is "api". */
import { createContextKey, type HandlerContext } from '@connectrpc/connect';

export const actorKey = createContextKey<string>('api', { description: 'name recorded on events for this caller' });

export function actorOf(ctx: HandlerContext): string {
  return ctx.values.get(actorKey);
}

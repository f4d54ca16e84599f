/** Per-request values the interceptors put in the handler context: the request's logger. */
import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import type { Logger } from '../logging.js';

export const requestLogKey = createContextKey<Logger | null>(null, { description: 'logger carrying this request id' });

/** The request's logger (it carries the request id); `fallback` outside an RPC. */
export function requestLog(ctx: Pick<HandlerContext, 'values'>, fallback: Logger): Logger {
  return ctx.values.get(requestLogKey) ?? fallback;
}

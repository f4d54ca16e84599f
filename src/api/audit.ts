/**
 * The audit trail: one `audit` info line per admin mutation (credentials, budgets, scoring
 * settings, drains), with who did it and what changed; never a secret.
 */
import type { HandlerContext } from '@connectrpc/connect';
import type { Logger } from '../logging.js';
import { actorOf } from './actor.js';
import { requestLog } from './request-context.js';

export function audit(ctx: HandlerContext, log: Logger, action: string, detail: Record<string, unknown>): void {
  requestLog(ctx, log).info({ audit: action, actor: actorOf(ctx), ...detail }, 'audit');
}

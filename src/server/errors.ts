/**
 * The one place domain errors become status codes. Anything that is not a DomainError or a
 * ConnectError is an internal fault: it is logged with its stack and the client gets INTERNAL with
 * a request id, never a database message.
 */
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { randomUUID } from 'node:crypto';
import { DomainError, type DomainErrorCode } from '../domain/errors.js';
import type { Logger } from '../logging.js';
import { requestLogKey } from '../api/request-context.js';

const CODE_FOR: Record<DomainErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  stale_epoch: Code.FailedPrecondition,
  conflict: Code.Aborted,
  resource_exhausted: Code.ResourceExhausted,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  unavailable: Code.Unavailable,
  deadline_exceeded: Code.DeadlineExceeded,
};

export function toConnectError(err: unknown, log: Logger, procedure: string): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof DomainError) return new ConnectError(err.message, CODE_FOR[err.code]);
  const incident = randomUUID();
  log.error({ err, procedure, incident }, 'internal error');
  return new ConnectError(`internal error (incident ${incident}); the coordinator logged the details`, Code.Internal);
}

/** Maps errors of unary calls and of every message of a streaming response. */
export function errorMappingInterceptor(baseLog: Logger): Interceptor {
  return (next) => async (req) => {
    const procedure = req.url;
    const log = req.contextValues.get(requestLogKey) ?? baseLog;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStreamErrors(res.message, log, procedure) };
    } catch (err) {
      throw toConnectError(err, log, procedure);
    }
  };
}

async function* mapStreamErrors<T>(messages: AsyncIterable<T>, log: Logger, procedure: string): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    throw toConnectError(err, log, procedure);
  }
}

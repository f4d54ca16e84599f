/**
 * The one place domain errors become status codes. Anything that is not a DomainError or a
 * ConnectError is an internal fault: it is logged with its stack and the client gets INTERNAL with
 * a request id, never a database message.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { randomUUID } from 'node:crypto';
import { DomainError, type DomainErrorCode } from '../domain/errors.js';
import type { Logger } from '../logging.js';

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

/**
 * The response messages with their errors mapped. A plain iterator rather than an async generator
 * (`try { yield* messages } catch`): a factory stream stays suspended in it for as long as the
 * factory is connected, and a generator's frame and promise plumbing is one more layer of state each
 * open stream holds and rebuilds for every message (issue #9). A class, so each stream holds one
 * small object and one closure rather than a closure per method.
 */
export class MappedErrors<T> implements AsyncIterableIterator<T> {
  private readonly inner: AsyncIterator<T>;
  private readonly map: (err: unknown) => never;

  constructor(messages: AsyncIterable<T>, log: Logger, procedure: string) {
    this.inner = messages[Symbol.asyncIterator]();
    this.map = (err) => {
      throw toConnectError(err, log, procedure);
    };
  }

  next(): Promise<IteratorResult<T>> {
    return this.inner.next().then(undefined, this.map);
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    return this.inner.return ? this.inner.return(value).then(undefined, this.map) : Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    return this.inner.throw ? this.inner.throw(error).then(undefined, this.map) : Promise.reject(error).then(undefined, this.map);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

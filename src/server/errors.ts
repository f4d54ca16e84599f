/**
 * The one place domain errors become status codes. Anything that is not a DomainError or a
 * ConnectError is an internal fault: it is logged with its stack and the client gets INTERNAL with
 * a request id, never a database message.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { randomUUID } from 'node:crypto';
import { DomainError, type DomainErrorCode } from '../domain/errors.js';
import { isDiskFull, StoreThrottled } from '../store/store-errors.js';
import type { Logger } from '../logging.js';

const CODE_FOR: Record<DomainErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  stale_epoch: Code.FailedPrecondition,
  conflict: Code.Aborted,
  resource_exhausted: Code.ResourceExhausted,
  out_of_range: Code.OutOfRange,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  unavailable: Code.Unavailable,
  deadline_exceeded: Code.DeadlineExceeded,
};

export function toConnectError(err: unknown, log: Logger, procedure: string): ConnectError {
  if (err instanceof ConnectError) return err.rawMessage.length > MAX_MESSAGE_CHARS || LONG_QUOTE.test(err.rawMessage) ? new ConnectError(compact(err.rawMessage), err.code, err.metadata) : err;
  if (err instanceof DomainError) return new ConnectError(compact(err.message), CODE_FOR[err.code]);
  if (isDiskFull(err)) {
    log.error({ err, procedure }, 'the store cannot write: disk full');
    return new ConnectError('the coordinator cannot write: its disk is full; nothing was changed, try again once there is room', Code.ResourceExhausted);
  }
  if (err instanceof StoreThrottled) {
    log.warn({ err, procedure }, 'the store is throttled: request units spent after every retry');
    return new ConnectError(`the coordinator's store is over its request-unit budget; try again in ${Math.max(1, Math.ceil(err.retryAfterMs / 1000))} s`, Code.Unavailable);
  }
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

/** Quoted input longer than this is cut in messages (with its length said), so errors stay small. */
const MAX_QUOTE_CHARS = 200;
const LONG_QUOTE = new RegExp(`"[^"]{${MAX_QUOTE_CHARS + 1},}"`);
/** No message is longer than this, whatever it quotes unquoted. */
const MAX_MESSAGE_CHARS = 1_000;

/**
 * Messages quote the input they refuse ("product_id "..." must be ..."); a 60 K id must not come
 * back as a 60 K message (or, past the header limit, as a reset stream). Each long quoted run keeps
 * its first 200 characters and says how long it was; the explanation around it stays whole.
 */
export function compact(message: string): string {
  const cut = message.replace(new RegExp(LONG_QUOTE.source, 'g'), (quoted) => `"${quoted.slice(1, MAX_QUOTE_CHARS + 1)}…" (${(quoted.length - 2).toLocaleString('en-US')} characters)`);
  return cut.length > MAX_MESSAGE_CHARS ? `${cut.slice(0, MAX_MESSAGE_CHARS)}… (message cut at ${MAX_MESSAGE_CHARS} of ${cut.length.toLocaleString('en-US')} characters)` : cut;
}

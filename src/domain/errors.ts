/**
 * Errors the rules raise, each with a code the servers map to one status (server/errors.ts).
 * Messages are written for the client: they name the field or the job, never an internal.
 */
export type DomainErrorCode =
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'stale_epoch'
  | 'conflict'
  | 'resource_exhausted'
  | 'out_of_range'
  | 'unauthenticated'
  | 'permission_denied'
  | 'unavailable'
  | 'deadline_exceeded';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalidArgument = (message: string): DomainError => new DomainError('invalid_argument', message);
export const notFound = (message: string): DomainError => new DomainError('not_found', message);
export const failedPrecondition = (message: string): DomainError =>
  new DomainError('failed_precondition', message);
export const staleEpoch = (message: string): DomainError => new DomainError('stale_epoch', message);

/**
 * Runs `check` for one item of a repeated field; a DomainError it throws gets the item's place
 * ("children[3]") in front of its message, so a client knows which item was wrong.
 */
export function forItem<T>(place: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof DomainError) throw new DomainError(err.code, `${place}: ${err.message}`);
    throw err;
  }
}

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

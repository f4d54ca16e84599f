/**
 * A failed call as the CLI explains it: whether the coordinator could not be reached or turned the
 * caller away, and what to do about a missing key. Shared by `whoami` and `top`, whose first calls
 * are where a wrong address or key shows.
 */
import { Code, ConnectError } from '@connectrpc/connect';

/** `err` restated to name the address and, when refused, the key; other errors as they are. */
export function explainedCallError(err: unknown, address: string, sentKey: boolean): unknown {
  if (!(err instanceof ConnectError)) return err;
  if (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded) {
    return new ConnectError(`cannot reach the coordinator at ${address}: ${err.rawMessage}`, err.code);
  }
  if (err.code === Code.Unauthenticated || err.code === Code.PermissionDenied) {
    const what = sentKey ? 'refused the API key' : 'needs an API key (pass --key or set GIGAFACTORY_API_KEY)';
    return new ConnectError(`the coordinator at ${address} ${what}: ${err.rawMessage}`, err.code);
  }
  return err;
}

/** Whether retrying cannot help: the caller was turned away. */
export function isRefusal(err: unknown): boolean {
  return err instanceof ConnectError && (err.code === Code.Unauthenticated || err.code === Code.PermissionDenied);
}

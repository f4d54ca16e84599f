/** Turns a failed call into a sentence an operator can act on (never a bare status code). */
import { Code, ConnectError } from '@connectrpc/connect';

export function describeError(err: unknown, doing?: string): string {
  const error = ConnectError.from(err);
  const detail = error.rawMessage.trim();
  let reason: string;
  switch (error.code) {
    case Code.Unavailable:
    case Code.Unknown:
      reason = looksLikeNetwork(detail) || error.code === Code.Unavailable
        ? 'the coordinator could not be reached; check that it is running and that this browser can reach it'
        : detail || 'the coordinator gave an unexpected answer';
      break;
    case Code.Unauthenticated:
      reason = 'the coordinator needs a valid API key; sign in with one';
      break;
    case Code.PermissionDenied:
      reason = detail ? `this API key is not allowed to do that (${detail})` : 'this API key is not allowed to do that';
      break;
    case Code.DeadlineExceeded:
      reason = 'the coordinator took too long to answer; try again';
      break;
    case Code.Canceled:
      reason = 'the request was cancelled';
      break;
    case Code.ResourceExhausted:
      reason = detail || 'the coordinator is out of capacity for this request';
      break;
    default:
      reason = detail || 'the coordinator refused the request';
  }
  return sentence(doing ? `Could not ${doing}: ${reason}` : reason);
}

function looksLikeNetwork(message: string): boolean {
  return /failed to fetch|networkerror|network error|load failed|fetch failed|ECONNREFUSED/i.test(message);
}

/** Capitalised, with a full stop: server messages are written lower-case for composing. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

export function isUnauthenticated(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Unauthenticated;
}

/**
 * Who is calling, from a call's headers alone: reads the bearer token from `authorization`,
 * establishes the principal, checks the role × RPC table (access.ts) and the key's request rate.
 * Refusals are UNAUTHENTICATED, PERMISSION_DENIED or RESOURCE_EXHAUSTED with a message saying why,
 * and one warn line; the token is never logged. call-admission.ts runs it for every RPC on both
 * listeners, before the call's body is read on the native one.
 */
import { Code, ConnectError, createContextKey } from '@connectrpc/connect';
import type { Clock } from '../coordinator/clock.js';
import type { Security } from '../coordinator/security.js';
import { describePrincipal, type Principal } from '../domain/credentials.js';
import { DomainError } from '../domain/errors.js';
import { TokenBucket } from '../domain/token-bucket.js';
import type { Logger } from '../logging.js';
import { ACCESS, refusal } from './access.js';

export interface AuthOptions {
  security: Security;
  /** Loopback development mode: a call without a credential acts as an admin (actor "api"). */
  devMode: boolean;
  /** Requests per second per API key, and the burst above it. */
  keyRate: { perSecond: number; burst: number };
  clock: Clock;
  log: Logger;
}

/** What authentication reads of a call: its procedure ("package.Service/Method"), its credential header, where it comes from. */
export interface CallCredential {
  procedure: string;
  authorization: string | null;
  peer: string | undefined;
}

/** Resolves with the caller's principal, or rejects with the refusal (a ConnectError). */
export type Authenticate = (call: CallCredential, log: Logger) => Promise<Principal>;

/** The caller's address, for refusal lines. */
export const peerKey = createContextKey<string>('', { description: 'remote address of the connection' });

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

export function authenticator(opts: AuthOptions): Authenticate {
  const buckets = new Map<string, TokenBucket>();
  return async ({ procedure: rpc, authorization: header, peer }, log) => {
    const refuse = (code: Code, message: string, principal: Principal | null): never => {
      log.warn({ rpc, code: Code[code], principal: principal ? describePrincipal(principal) : 'none', peer, reason: message }, 'request refused');
      throw new ConnectError(message, code);
    };

    let principal: Principal;
    if (header === null || header === '') {
      if (!opts.devMode) refuse(Code.Unauthenticated, `${shortName(rpc)} needs a credential: send "authorization: Bearer <token>"`, null);
      principal = { kind: 'dev' };
    } else {
      const token = BEARER.exec(header)?.[1];
      if (!token) return refuse(Code.Unauthenticated, 'the authorization header must be "Bearer <token>"', null);
      try {
        principal = await opts.security.authenticate(token);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'unauthenticated') return refuse(Code.Unauthenticated, err.message, null);
        throw err;
      }
    }

    const denied = refusal(rpc, ACCESS[rpc], principal);
    if (denied) refuse(principal.kind === 'dev' ? Code.Unauthenticated : Code.PermissionDenied, denied, principal);

    if (principal.kind === 'key') {
      const now = opts.clock.now();
      let bucket = buckets.get(principal.keyId);
      if (!bucket) buckets.set(principal.keyId, (bucket = new TokenBucket(opts.keyRate.perSecond, opts.keyRate.burst, now)));
      const waitMs = bucket.take(1, now);
      if (waitMs > 0) {
        refuse(
          Code.ResourceExhausted,
          `API key "${principal.name}" is over its request rate (${opts.keyRate.perSecond} per second, bursts of ${opts.keyRate.burst}); retry in ${waitMs} ms`,
          principal,
        );
      }
    }
    return principal;
  };
}

function shortName(rpc: string): string {
  return rpc.slice(rpc.lastIndexOf('.', rpc.indexOf('/')) + 1);
}

/**
 * What every RPC goes through, on both listeners and in this order:
 *
 * 1. Admission, from the call's headers alone: a request id (the caller's `x-request-id`, or made
 *    up), a child logger carrying it, and the caller's principal (auth.ts) — or a refusal. Both
 *    listeners admit a call before a byte of its body is read: the native one in a grpc-js
 *    interceptor (grpc-native.ts), the gateway in front of connect-node (gateway-admission.ts).
 * 2. The call, with the admission in its context values (request logger, principal, actor), its
 *    errors mapped to status codes (errors.ts), `x-request-id` on its answer, and a debug line with
 *    its duration and status when a unary call finishes.
 *
 * One module for both listeners, so a call means the same on each: same refusals, same messages,
 * same request ids, same log lines.
 */
import { Code, ConnectError, type ContextValues } from '@connectrpc/connect';
import { randomUUID } from 'node:crypto';
import { actorKey } from '../api/actor.js';
import { principalKey } from '../api/principal.js';
import { requestLogKey } from '../api/request-context.js';
import type { Principal } from '../domain/credentials.js';
import type { Logger } from '../logging.js';
import type { Authenticate } from './auth.js';
import { MappedErrors, toConnectError } from './errors.js';

/** What admission reads of a call: no body, only what arrived in its headers. */
export interface CallHead {
  /** "package.Service/Method" */
  procedure: string;
  header: { get(name: string): string | null };
  peer: string | undefined;
}

export interface Admission {
  requestId: string;
  /** Carries the request id and the procedure. */
  log: Logger;
  principal: Principal;
  /** performance.now() when admission began, for the call's duration. */
  started: number;
}

/** What a handler answered: one message, or (`stream`) messages to come; headers to send with it. */
export interface CallResult {
  stream: boolean;
  header: Headers;
  message: unknown;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export class CallAdmission {
  constructor(
    private readonly authenticate: Authenticate,
    private readonly log: Logger,
  ) {}

  /** Admits a call from its head, or rejects with the refusal (x-request-id in its metadata). */
  async admit(head: CallHead): Promise<Admission> {
    const given = head.header.get('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    const procedure = `/${head.procedure}`;
    const log = this.log.child({ requestId, procedure });
    const started = performance.now();
    try {
      const principal = await this.authenticate({ procedure: head.procedure, authorization: head.header.get('authorization'), peer: head.peer }, log);
      return { requestId, log, principal, started };
    } catch (err) {
      throw failed(toConnectError(err, log, procedure), { requestId, log, started });
    }
  }

  /**
   * Runs an admitted call. `invoke` calls the handler; what it resolves with is the answer (a
   * streaming one's messages are iterated later by the transport, their errors mapped as they come).
   */
  async run<R extends CallResult>(admission: Admission, values: ContextValues, procedure: string, invoke: () => Promise<R>): Promise<R> {
    const { requestId, log, principal } = admission;
    values.set(requestLogKey, log);
    values.set(principalKey, principal);
    if (principal.kind === 'key') values.set(actorKey, principal.name);
    try {
      const res = await invoke();
      res.header.set('x-request-id', requestId);
      if (!res.stream) {
        finished(admission, 'ok');
        return res;
      }
      return { ...res, message: new MappedErrors(res.message as AsyncIterable<unknown>, log, procedure) };
    } catch (err) {
      throw failed(toConnectError(err, log, procedure), admission);
    }
  }
}

function finished({ log, started }: Pick<Admission, 'log' | 'started'>, code: string): void {
  log.debug({ ms: Math.round((performance.now() - started) * 10) / 10, code }, 'rpc finished');
}

function failed(err: ConnectError, admission: Pick<Admission, 'requestId' | 'log' | 'started'>): ConnectError {
  finished(admission, Code[err.code]);
  err.metadata.set('x-request-id', admission.requestId);
  return err;
}

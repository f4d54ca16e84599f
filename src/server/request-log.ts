/**
 * One id per RPC, taken from the caller's `x-request-id` or made up, echoed in the response
 * headers and carried by a child logger in the handler context, so every line a request causes can
 * be found by it. Each finished call is logged at debug level with its duration and status.
 */
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { randomUUID } from 'node:crypto';
import { requestLogKey } from '../api/request-context.js';
import type { Logger } from '../logging.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function requestLogInterceptor(log: Logger): Interceptor {
  return (next) => async (req) => {
    const given = req.header.get('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    const child = log.child({ requestId, procedure: req.url.slice(req.url.lastIndexOf('/', req.url.lastIndexOf('/') - 1)) });
    req.contextValues.set(requestLogKey, child);
    const started = performance.now();
    const done = (code: string): void => child.debug({ ms: Math.round((performance.now() - started) * 10) / 10, code }, 'rpc finished');
    try {
      const res = await next(req);
      res.header.set('x-request-id', requestId);
      if (!res.stream) done('ok');
      return res;
    } catch (err) {
      done(err instanceof ConnectError ? Code[err.code] : 'error');
      if (err instanceof ConnectError) err.metadata.set('x-request-id', requestId);
      throw err;
    }
  };
}

/**
 * FactoryService.Connect: adapts the bidirectional stream to a FactorySession. Requests are handled
 * in order per job, stream-level ones (hello, heartbeat, drain) in stream order (MessageLanes);
 * whatever the session sends is yielded as it is produced. A bad message ends the stream with its
 * status; the rest of the fleet is not disturbed. A stream that ends without the coordinator's
 * goodbye (reset, the agent died, a bad message) is a broken one: the factory's leases get only the
 * reconnect grace (FactorySession.broke).
 *
 * With a factory token (see the auth interceptor) the session is bound to that identity and counted
 * against the identity's stream limit, and log chunks are admitted at each job's log rate.
 *
 * The handler returns its Outbox rather than being an async generator that yields from it: one
 * layer fewer of the state every open stream holds suspended in the transport and rebuilds for each
 * message it sends (issue #9).
 */
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { FactoryService, type ConnectResponse } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import type { FactoryStreams } from '../coordinator/factory-streams.js';
import type { Fleet } from '../coordinator/fleet.js';
import type { LogRate } from '../coordinator/log-rate.js';
import type { Logger } from '../logging.js';
import { openSession } from './factory-session.js';
import { MessageLanes, laneOf } from './message-lanes.js';
import { endCallKey } from './end-call.js';
import { Outbox } from './outbox.js';
import { principalOf } from './principal.js';
import { requestLog } from './request-context.js';

/** Limits on factory streams; absent ones do not apply. */
export interface FactoryStreamLimits {
  streams?: FactoryStreams;
  logRate?: LogRate;
}

/**
 * Messages queued for a factory that is not taking them. A factory that reads gets at most its
 * slots' offers and one answer per message it sends, so only one that stopped reading reaches it.
 */
export const MAX_UNSENT_MESSAGES = 256;

export function factoryServiceImpl(fleet: Fleet, log: Logger, limits: FactoryStreamLimits = {}): Pick<ServiceImpl<typeof FactoryService>, 'connect'> {
  return {
    connect(requests, ctx) {
      // What the stream's closures keep of the call: its signal, not the handler context (a copy of
      // the call's fields made for this handler), which would stay alive with every open stream.
      const signal = ctx.signal;
      const endCall = ctx.values.get(endCallKey);
      // Once the transport is done with the response (it read the end, or the call broke). A
      // factory that stops reading its stream cannot make the coordinator queue for it without end.
      const outbox = new Outbox<ConnectResponse>(
        () => {
          signal.removeEventListener('abort', onAbort);
          void session.broke('stream finished');
          release();
        },
        {
          messages: MAX_UNSENT_MESSAGES,
          overflow: () => {
            const err = new ConnectError(`the factory is not reading its stream: ${MAX_UNSENT_MESSAGES} messages wait to be sent`, Code.ResourceExhausted);
            fail(err);
            // The transport is stuck writing to this factory; ending the answer alone would queue behind that.
            endCall?.(err);
            return err;
          },
        },
      );
      const session = openSession(fleet, { send: (m) => outbox.push(m), end: (err) => outbox.end(err) }, requestLog(ctx, log));
      const principal = principalOf(ctx);
      let release = (): void => undefined;
      // Log rate is counted per job and sender, so chunks another factory sends about a job (which
      // the session refuses anyway) cannot use up the holder's budget.
      const rateKey = principal.kind === 'factory' ? principal.scope.factoryId : session.sessionId;
      if (principal.kind === 'factory') {
        session.restrictTo(principal.scope);
        try {
          if (limits.streams) release = limits.streams.add(principal.scope.factoryId, session);
        } catch (err) {
          requestLog(ctx, log).warn({ factoryId: principal.scope.factoryId, err: (err as Error).message }, 'factory stream refused');
          session.close('refused: too many streams');
          throw err;
        }
      }
      const onAbort = (): void => {
        void session.broke('stream aborted');
        outbox.end();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let ended = false;
      const fail = (err: unknown): void => {
        if (ended) return;
        ended = true;
        log.info({ sessionId: session.sessionId, factoryId: session.factory?.factoryId, err: String(err) }, 'factory stream ended with an error');
        void session.broke('error');
        outbox.end(err);
      };
      const lanes = new MessageLanes(fail);
      void (async () => {
        try {
          for await (const message of requests) {
            if (lanes.failed) return;
            if (message.kind.case === 'logChunk' && limits.logRate) await limits.logRate.admit(`${rateKey}/${message.kind.value.jobId}`, message.kind.value.data.length, signal);
            await lanes.run(laneOf(message), () => session.handle(message));
          }
          await lanes.idle();
          if (lanes.failed) return;
          void session.broke('factory closed the stream');
          outbox.end();
        } catch (err) {
          fail(err);
        }
      })();
      return outbox;
    },
  };
}

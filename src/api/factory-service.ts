/**
 * FactoryService.Connect: adapts the bidirectional stream to a FactorySession. Requests are handled
 * one at a time in order; whatever the session sends is yielded as it is produced. A bad message
 * ends the stream with its status; the rest of the fleet is not disturbed.
 */
import type { ServiceImpl } from '@connectrpc/connect';
import { FactoryService, type ConnectResponse } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import type { Fleet } from '../coordinator/fleet.js';
import type { Logger } from '../logging.js';
import { Outbox } from './outbox.js';
import { requestLog } from './request-context.js';

export function factoryServiceImpl(fleet: Fleet, log: Logger): ServiceImpl<typeof FactoryService> {
  return {
    async *connect(requests, ctx) {
      const outbox = new Outbox<ConnectResponse>();
      const session = fleet.openSession({ send: (m) => outbox.push(m), end: (err) => outbox.end(err) }, requestLog(ctx, log));
      const onAbort = (): void => {
        session.close('stream aborted');
        outbox.end();
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      void (async () => {
        try {
          for await (const message of requests) await session.handle(message);
          session.close('factory closed the stream');
          outbox.end();
        } catch (err) {
          log.info({ sessionId: session.sessionId, factoryId: session.factory?.factoryId, err: String(err) }, 'factory stream ended with an error');
          session.close('error');
          outbox.end(err);
        }
      })();
      try {
        yield* outbox;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        session.close('stream finished');
      }
    },
  };
}

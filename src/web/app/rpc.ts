/**
 * The only way the app talks to the coordinator: Connect-Web clients built from the generated
 * service descriptors, over the same origin that served the page.
 */
import { Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { AdminService } from '../../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { JobService } from '../../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { WeightsService } from '../../../gen/ts/gigafactory/fleet/v1/weights_service_pb.js';
import { session } from './session.js';

/** Adds the signed-in key, and notes when the coordinator asks for one or refuses it. */
export const authInterceptor: Interceptor = (next) => async (req) => {
  const key = session.apiKey();
  if (key) req.header.set('Authorization', `Bearer ${key}`);
  try {
    return await next(req);
  } catch (err) {
    noteRefusal(err);
    throw err;
  }
};

/** Streams fail after the interceptor returned; their readers call this too. */
export function noteRefusal(err: unknown): void {
  const error = ConnectError.from(err);
  if (error.code !== Code.Unauthenticated) return;
  session.refused(
    session.apiKey()
      ? `The coordinator did not accept this API key${error.rawMessage ? `: ${error.rawMessage.replace(/\.$/, '')}` : ''}. Sign in with another one.`
      : 'The coordinator needs an API key. Sign in with one to continue.',
  );
}

export const transport = createConnectTransport({
  baseUrl: window.location.origin,
  interceptors: [authInterceptor],
});

export const jobService = createClient(JobService, transport);
export const adminService = createClient(AdminService, transport);
export const weightsService = createClient(WeightsService, transport);

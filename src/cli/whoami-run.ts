/**
 * `gigafactory whoami`: who the coordinator takes the caller for (AdminService.GetCaller, viewer):
 * the API key's name and role, or development mode. The quick check that an address and a key work
 * before anything else is run with them, so its failures say which of the two is wrong.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { adminClient } from './client.js';
import type { ClientSecurity } from './connection-options.js';
import { print } from './format-text.js';

/** Asks the coordinator who it takes the caller for, and prints it. */
export async function whoami(coordinator: () => string, security: () => ClientSecurity, json: () => boolean): Promise<void> {
  const address = coordinator();
  const sec = security();
  const caller = await adminClient(address, sec)
    .getCaller({})
    .catch((err: unknown) => {
      throw explained(err, address, Boolean(sec.key));
    });
  const role = (ApiKeyRole[caller.role] ?? 'unknown').toLowerCase();
  if (json()) return print({ name: caller.name, role, development: caller.development, coordinator: address });
  print(`${caller.name} (${role}) at ${address}`);
  if (caller.development) print('development mode: the coordinator takes calls without a key, as admin');
}

/** The RPC's failure, saying whether the coordinator could not be reached or turned the caller away. */
function explained(err: unknown, address: string, sentKey: boolean): unknown {
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

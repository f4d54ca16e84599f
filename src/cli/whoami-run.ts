/**
 * `gigafactory whoami`: who the coordinator takes the caller for (AdminService.GetCaller, viewer):
 * the API key's name and role, or development mode. The quick check that an address and a key work
 * before anything else is run with them, so its failures say which of the two is wrong.
 */
import { ApiKeyRole } from '../../gen/ts/gigafactory/fleet/v1/credentials_pb.js';
import { explainedCallError } from './call-errors.js';
import { adminClient } from './admin-client.js';
import type { ClientSecurity } from './connection-options.js';
import { print } from './format-text.js';

/** Asks the coordinator who it takes the caller for, and prints it. */
export async function whoami(coordinator: () => string, security: () => ClientSecurity, json: () => boolean): Promise<void> {
  const address = coordinator();
  const sec = security();
  const caller = await adminClient(address, sec)
    .getCaller({})
    .catch((err: unknown) => {
      throw explainedCallError(err, address, Boolean(sec.key));
    });
  const role = (ApiKeyRole[caller.role] ?? 'unknown').toLowerCase();
  if (json()) return print({ name: caller.name, role, development: caller.development, coordinator: address });
  print(`${caller.name} (${role}) at ${address}`);
  if (caller.development) print('development mode: the coordinator takes calls without a key, as admin');
}

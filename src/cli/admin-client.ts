/** An AdminService client (client.ts), in a module of its own so only the commands calling it load it. */
import type { Client } from '@connectrpc/connect';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { serviceClient } from './client.js';
import type { ClientSecurity } from './connection-options.js';

export function adminClient(address: string, sec: ClientSecurity = {}): Client<typeof AdminService> {
  return serviceClient(AdminService, address, sec);
}

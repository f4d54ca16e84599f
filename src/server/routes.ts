/** Every service on one router, so both listeners serve exactly the same API. */
import type { ConnectRouter } from '@connectrpc/connect';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { FactoryService } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { adminServiceImpl } from '../api/admin-service.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { factoryServiceImpl, type FactoryStreamLimits } from '../api/factory-service.js';
import { jobServiceImpl } from '../api/job-service.js';
import { TrackerService } from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import { trackerServiceImpl } from '../api/tracker-service.js';
import { enrollImpl, securityAdminImpl } from '../api/security-admin.js';
import { budgetAdminImpl } from '../api/budget-admin.js';
import type { Coordinator } from '../coordinator/coordinator.js';
import type { FactoryStreams } from '../coordinator/factory-streams.js';
import type { Security } from '../coordinator/security.js';
import type { Logger } from '../logging.js';
import { requiredRoles } from './access.js';

/** What the credential RPCs and the factory stream limits need (server/security-setup.ts builds it). */
export interface SecurityRoutes extends FactoryStreamLimits {
  security: Security;
  streams: FactoryStreams;
}

export function routes(coordinator: Coordinator, log: Logger, sec: SecurityRoutes): (router: ConnectRouter) => void {
  const credentials = { security: sec.security, streams: sec.streams, log, requiredRoles: requiredRoles() };
  return (router) => {
    router.service(JobService, jobServiceImpl(coordinator));
    router.service(TrackerService, trackerServiceImpl(coordinator.tracker, (job) => coordinator.fleet.budgets.annotate(job)));
    router.service(FactoryService, { ...factoryServiceImpl(coordinator.fleet, log, sec), ...enrollImpl(credentials) });
    router.service(AdminService, {
      ...adminServiceImpl(coordinator.fleetView, coordinator.fleet),
      ...securityAdminImpl(credentials),
      ...budgetAdminImpl(coordinator.fleet, log),
    });
  };
}

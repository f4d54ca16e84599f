/** Every service on one router, so both listeners serve exactly the same API. */
import type { ConnectRouter } from '@connectrpc/connect';
import { AdminService } from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { FactoryService } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { adminServiceImpl } from '../api/admin-service.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { factoryServiceImpl } from '../api/factory-service.js';
import { jobServiceImpl } from '../api/job-service.js';
import type { Coordinator } from '../coordinator/coordinator.js';
import type { Logger } from '../logging.js';

export function routes(coordinator: Coordinator, log: Logger): (router: ConnectRouter) => void {
  return (router) => {
    router.service(JobService, jobServiceImpl(coordinator));
    router.service(FactoryService, factoryServiceImpl(coordinator.fleet, log));
    router.service(AdminService, adminServiceImpl(coordinator.fleetView));
  };
}

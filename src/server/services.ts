/**
 * Every service implementation, once: both listeners mount this one list (connect-node's router on
 * the gateway, grpc-native.ts on the native listener), so they serve exactly the same API.
 */
import type { DescService } from '@bufbuild/protobuf';
import type { ConnectRouter, ServiceImpl } from '@connectrpc/connect';
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
import { LeaseService } from '../../gen/ts/gigafactory/fleet/v1/lease_service_pb.js';
import { leaseServiceImpl } from '../api/lease-service.js';
import { ScheduleService } from '../../gen/ts/gigafactory/fleet/v1/schedule_service_pb.js';
import { scheduleServiceImpl } from '../api/schedule-service.js';
import { jobToWire } from '../api/convert.js';
import type { Coordinator } from '../coordinator/coordinator.js';
import type { FactoryStreams } from '../coordinator/factory-streams.js';
import type { Security } from '../coordinator/security.js';
import type { Logger } from '../logging.js';
import { requiredRoles } from './access.js';
import type { Artifacts } from '../coordinator/artifacts.js';
import { artifactReadsImpl } from '../api/artifact-reads.js';
import { factoryArtifactsImpl } from '../api/factory-artifacts.js';

/** What the credential RPCs and the factory stream limits need (server/security-setup.ts builds it). */
export interface SecurityRoutes extends FactoryStreamLimits {
  security: Security;
  streams: FactoryStreams;
}

/** A service descriptor and its implementation. */
export interface MountedService<S extends DescService = DescService> {
  service: S;
  impl: Partial<ServiceImpl<S>>;
}

/** One service's entry; typed per service, so the implementation is checked against its descriptor. */
export function mount<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): MountedService {
  return { service, impl } as unknown as MountedService;
}

export function services(coordinator: Coordinator, log: Logger, sec: SecurityRoutes, artifacts: Artifacts): MountedService[] {
  const credentials = { security: sec.security, streams: sec.streams, followers: coordinator.streams, log, requiredRoles: requiredRoles() };
  return [
    mount(JobService, { ...jobServiceImpl(coordinator), ...artifactReadsImpl(artifacts) }),
    mount(TrackerService, trackerServiceImpl(coordinator.tracker, (job) => coordinator.fleet.budgets.annotate(job))),
    mount(ScheduleService, scheduleServiceImpl(coordinator.schedules, (job) => jobToWire(coordinator.fleet.budgets.annotate(job)))),
    mount(FactoryService, { ...factoryServiceImpl(coordinator.fleet, log, sec), ...enrollImpl(credentials), ...factoryArtifactsImpl(artifacts) }),
    mount(AdminService, {
      ...adminServiceImpl(coordinator.fleetView, coordinator.fleet, log),
      ...securityAdminImpl(credentials),
      ...budgetAdminImpl(coordinator.fleet, log),
    }),
    mount(LeaseService, leaseServiceImpl(coordinator.fleet.leaseKeys, coordinator.store, coordinator.clock)),
  ];
}

/** The services on connect-node's router (the gateway). */
export function connectRoutes(mounted: readonly MountedService[]): (router: ConnectRouter) => void {
  return (router) => {
    for (const { service, impl } of mounted) router.service(service, impl);
  };
}

/**
 * Every RPC connect-node serves, as "package.Service/Method": over HTTP/1.1 (the gateway) all but
 * bidi streams, which need HTTP/2; over HTTP/2 (the benchmark's connect-node floor) all.
 */
export function connectProcedures(mounted: readonly MountedService[], { http2 }: { http2: boolean }): Set<string> {
  return new Set(mounted.flatMap(({ service }) => service.methods.filter((method) => http2 || method.methodKind !== 'bidi_streaming').map((method) => `${service.typeName}/${method.name}`)));
}

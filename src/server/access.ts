/**
 * The one role × RPC table. Every RPC of every service has exactly one row (a test walks the service
 * descriptors to prove it), and an RPC without a row is refused to everyone but development mode, so
 * a new RPC is closed until someone decides who may call it.
 *
 * The rule of thumb for new rows: reads and watches are `viewer`; steering jobs (submit, cancel,
 * requeue, ship, reject), draining factories and pausing budgets are `operator`; budget limits,
 * weights, credentials and anything that changes who may do what are `admin`. Factories call only FactoryService.Connect and
 * the artifact RPCs, with a factory token; FactoryService.Enroll takes an enrollment token.
 */
import { roleAtLeast, type Principal, type Role } from '../domain/credentials.js';

export type Access = { t: 'role'; role: Role } | { t: 'factory' } | { t: 'enrollment' };

const viewer: Access = { t: 'role', role: 'viewer' };
const operator: Access = { t: 'role', role: 'operator' };
const admin: Access = { t: 'role', role: 'admin' };

/** Keyed by "package.Service/Method", as in the request path. */
export const ACCESS: Readonly<Record<string, Access>> = {
  'gigafactory.fleet.v1.JobService/SubmitJob': operator,
  'gigafactory.fleet.v1.JobService/SubmitJobs': operator,
  'gigafactory.fleet.v1.JobService/GetJob': viewer,
  'gigafactory.fleet.v1.JobService/ListJobs': viewer,
  'gigafactory.fleet.v1.JobService/CancelJob': operator,
  'gigafactory.fleet.v1.JobService/WatchJobs': viewer,
  'gigafactory.fleet.v1.JobService/TailLogs': viewer,
  'gigafactory.fleet.v1.JobService/GetLogs': viewer,
  'gigafactory.fleet.v1.JobService/ExplainScore': viewer,
  'gigafactory.fleet.v1.JobService/ShipJob': operator,
  'gigafactory.fleet.v1.JobService/RejectJob': operator,
  'gigafactory.fleet.v1.JobService/RequeueJob': operator,
  'gigafactory.fleet.v1.JobService/AddChildren': operator,
  'gigafactory.fleet.v1.JobService/GetDag': viewer,
  'gigafactory.fleet.v1.JobService/ListArtifacts': viewer,
  'gigafactory.fleet.v1.JobService/DownloadArtifact': viewer,

  // Ingest creates and updates jobs, as SubmitJob does; a dry run shows what would be, so operator too.
  'gigafactory.fleet.v1.TrackerService/IngestItem': operator,
  'gigafactory.fleet.v1.TrackerService/IngestItems': operator,

  // Schedules submit jobs, as SubmitJob does: changing or firing one is operator; reading, viewer.
  'gigafactory.fleet.v1.ScheduleService/CreateSchedule': operator,
  'gigafactory.fleet.v1.ScheduleService/GetSchedule': viewer,
  'gigafactory.fleet.v1.ScheduleService/ListSchedules': viewer,
  'gigafactory.fleet.v1.ScheduleService/PauseSchedule': operator,
  'gigafactory.fleet.v1.ScheduleService/ResumeSchedule': operator,
  'gigafactory.fleet.v1.ScheduleService/DeleteSchedule': operator,
  'gigafactory.fleet.v1.ScheduleService/TriggerSchedule': operator,

  'gigafactory.fleet.v1.AdminService/ListFactories': viewer,
  'gigafactory.fleet.v1.AdminService/GetScalingSignal': viewer,
  'gigafactory.fleet.v1.AdminService/GetProductSettings': viewer,
  'gigafactory.fleet.v1.AdminService/SetProductSettings': admin,
  'gigafactory.fleet.v1.AdminService/DrainFactory': operator,
  'gigafactory.fleet.v1.AdminService/CreateEnrollmentToken': admin,
  'gigafactory.fleet.v1.AdminService/RevokeFactory': admin,
  'gigafactory.fleet.v1.AdminService/RotateFactoryToken': admin,
  'gigafactory.fleet.v1.AdminService/CreateApiKey': admin,
  'gigafactory.fleet.v1.AdminService/ListApiKeys': admin,
  'gigafactory.fleet.v1.AdminService/RevokeApiKey': admin,
  // Budgets: anyone may read them; pausing is steering (operator); changing limits is admin.
  'gigafactory.fleet.v1.AdminService/ListBudgets': viewer,
  'gigafactory.fleet.v1.AdminService/GetBudget': viewer,
  'gigafactory.fleet.v1.AdminService/SetBudget': admin,
  'gigafactory.fleet.v1.AdminService/PauseBudget': operator,
  'gigafactory.fleet.v1.AdminService/ResumeBudget': operator,
  'gigafactory.fleet.v1.AdminService/GetCaller': viewer,
  // Weights: evaluating them on recorded placements is a read; running an experiment changes
  // where jobs go, as the product's weights do (SetProductSettings), so admin.
  'gigafactory.fleet.v1.WeightsService/EvaluateWeights': viewer,
  'gigafactory.fleet.v1.WeightsService/RecommendWeights': viewer,
  'gigafactory.fleet.v1.WeightsService/GetWeightsExperiment': viewer,
  'gigafactory.fleet.v1.WeightsService/StartWeightsExperiment': admin,
  'gigafactory.fleet.v1.WeightsService/StopWeightsExperiment': admin,

  // Lease tokens: checking one is a read of one job's lease, so viewer (the system that guards its
  // writes holds a viewer key); the keys are public (also at /.well-known/gigafactory-lease-keys).
  'gigafactory.fleet.v1.LeaseService/Check': viewer,
  'gigafactory.fleet.v1.LeaseService/ListLeaseKeys': viewer,

  'gigafactory.fleet.v1.FactoryService/Connect': { t: 'factory' },
  'gigafactory.fleet.v1.FactoryService/Enroll': { t: 'enrollment' },
  // Artifact uploads and fetches speak about a lease, as the stream's messages do: factory tokens only.
  'gigafactory.fleet.v1.FactoryService/StartUpload': { t: 'factory' },
  'gigafactory.fleet.v1.FactoryService/UploadChunks': { t: 'factory' },
  'gigafactory.fleet.v1.FactoryService/FinishUpload': { t: 'factory' },
  'gigafactory.fleet.v1.FactoryService/FetchArtifact': { t: 'factory' },
};

/**
 * The least role each RPC callable with an API key needs, keyed by "Service/Method": what
 * AdminService.GetCaller tells clients, so they offer only the actions a key may take.
 */
export function requiredRoles(): Record<string, Role> {
  const roles: Record<string, Role> = {};
  for (const [rpc, access] of Object.entries(ACCESS)) if (access.t === 'role') roles[shortName(rpc)] = access.role;
  return roles;
}

/** "gigafactory.fleet.v1.JobService/ShipJob" → "JobService/ShipJob". */
function shortName(rpc: string): string {
  return rpc.slice(rpc.lastIndexOf('.', rpc.indexOf('/')) + 1);
}

/** Why `principal` may not call `rpc` under `access` (a message for the caller), or null when it may. */
export function refusal(rpc: string, access: Access | undefined, principal: Principal): string | null {
  const short = shortName(rpc);
  if (principal.kind === 'dev') return access?.t === 'enrollment' ? `${short} needs an enrollment token (authorization: Bearer gfe_...)` : null;
  if (!access) return `${short} has no access rule yet, so it is refused to every credential`;
  switch (access.t) {
    case 'factory':
      return principal.kind === 'factory' ? null : `${short} is for factories: it needs a factory token (see FactoryService.Enroll), not ${kindName(principal)}`;
    case 'enrollment':
      return principal.kind === 'enrollment' ? null : `${short} needs an enrollment token, not ${kindName(principal)}`;
    case 'role':
      if (principal.kind !== 'key') return `${short} needs an API key with role ${access.role} or above; ${kindName(principal)} may not call it`;
      return roleAtLeast(principal.role, access.role) ? null : `API key "${principal.name}" has role ${principal.role}; ${short} needs ${access.role} or above`;
  }
}

function kindName(p: Principal): string {
  switch (p.kind) {
    case 'key':
      return `an API key ("${p.name}")`;
    case 'factory':
      return `a factory token ("${p.scope.factoryId}")`;
    case 'enrollment':
      return 'an enrollment token';
    case 'dev':
      return 'no credential';
  }
}

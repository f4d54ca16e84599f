/** AdminService handlers: the fleet as operators and autoscalers see it. */
import { create } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  AdminService,
  DrainFactoryResponseSchema,
  GetProductSettingsResponseSchema,
  GetScalingSignalResponseSchema,
  SetProductSettingsResponseSchema,
  ListFactoriesResponseSchema,
  UnplaceableDemandSchema,
} from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { AgentSupport, FactorySchema, FactoryState, type Factory } from '../../gen/ts/gigafactory/fleet/v1/factory_pb.js';
import { LabelRequirementSchema } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import type { Fleet } from '../coordinator/fleet.js';
import type { FactoryView, FleetView } from '../coordinator/fleet-view.js';
import { agentSupport, oldestSupportedAgentVersion, type AgentSupport as Support } from '../domain/agent-version.js';
import { DomainError, invalidArgument } from '../domain/errors.js';
import { VERSION } from '../version.js';
import { validateProductId } from '../domain/job-spec.js';
import { RevisionConflict } from '../store/job-store.js';
import { actorOf } from './actor.js';
import type { SecurityAdminMethod } from './security-admin.js';
import type { BudgetAdminMethod } from './budget-admin.js';
import { nextProductSettings, productSettingsToWire } from './product-settings.js';
import { OPERATOR_TO_WIRE } from './convert.js';

/**
 * Every AdminService RPC but the credential ones (security-admin.ts) and the budget ones
 * (budget-admin.ts); routes.ts joins the three.
 */
export function adminServiceImpl(view: FleetView, fleet: Fleet): Omit<ServiceImpl<typeof AdminService>, SecurityAdminMethod | BudgetAdminMethod> {
  const scheduling = fleet.scheduling;
  return {
    getProductSettings(req) {
      validateProductId(req.productId);
      return create(GetProductSettingsResponseSchema, { settings: productSettingsToWire(scheduling.productSettings(req.productId), scheduling) });
    },

    async setProductSettings(req, ctx) {
      validateProductId(req.productId);
      for (let attempt = 1; ; attempt++) {
        const next = nextProductSettings(scheduling.productSettings(req.productId), req, actorOf(ctx), fleet.clock.now());
        try {
          const stored = await scheduling.update(next);
          return create(SetProductSettingsResponseSchema, { settings: productSettingsToWire(stored, scheduling) });
        } catch (err) {
          if (!(err instanceof RevisionConflict) || attempt >= 3) throw err instanceof RevisionConflict ? new DomainError('conflict', `settings of ${req.productId} changed meanwhile; try again`) : err;
          await scheduling.load(); // another replica changed them: reload and apply ours on top
        }
      }
    },

    drainFactory(req) {
      if (!req.factoryId) throw invalidArgument('factory_id is required');
      fleet.drain(req.factoryId, req.reason || 'drained by an operator');
      const factory = view.factories().find((f) => f.factoryId === req.factoryId);
      return create(DrainFactoryResponseSchema, { factory: factory ? factoryToWire(factory) : undefined });
    },

    listFactories() {
      return create(ListFactoriesResponseSchema, {
        factories: view.factories().map(factoryToWire),
        coordinatorVersion: VERSION,
        oldestSupportedAgentVersion: oldestSupportedAgentVersion(VERSION),
      });
    },

    async getScalingSignal() {
      const signal = await view.scalingSignal();
      return create(GetScalingSignalResponseSchema, {
        demands: signal.demands.map((d) =>
          create(UnplaceableDemandSchema, {
            requiredLabels: d.requiredLabels.map((r) => create(LabelRequirementSchema, { key: r.key, operator: OPERATOR_TO_WIRE[r.operator], values: r.values })),
            requirementsKey: d.requirementsKey,
            queuedJobs: d.queuedJobs,
            oldestWait: durationFromMs(d.oldestWaitMs),
          }),
        ),
        computeTime: timestampFromMs(signal.computedAt),
        examinedJobs: signal.examinedJobs,
      });
    },
  };
}

const AGENT_SUPPORT_TO_WIRE: Record<Support, AgentSupport> = {
  supported: AgentSupport.SUPPORTED,
  outdated: AgentSupport.OUTDATED,
  unknown: AgentSupport.UNKNOWN,
};

function factoryToWire(f: FactoryView): Factory {
  return create(FactorySchema, {
    id: f.factoryId,
    labels: f.labels,
    slots: f.slots,
    freeSlots: f.freeSlots,
    agentVersion: f.agentVersion,
    agentSupport: AGENT_SUPPORT_TO_WIRE[agentSupport(f.agentVersion, VERSION)],
    state: f.draining ? FactoryState.DRAINING : FactoryState.CONNECTED,
    connectTime: timestampFromMs(f.connectedAt),
    lastSeenTime: timestampFromMs(f.lastSeenAt),
    jobIds: f.jobIds,
  });
}

/** AdminService handlers: the fleet as operators and autoscalers see it. */
import { create } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  AdminService,
  GetScalingSignalResponseSchema,
  ListFactoriesResponseSchema,
  UnplaceableDemandSchema,
} from '../../gen/ts/gigafactory/fleet/v1/admin_service_pb.js';
import { FactorySchema, FactoryState } from '../../gen/ts/gigafactory/fleet/v1/factory_pb.js';
import { LabelRequirementSchema } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import type { FleetView } from '../coordinator/fleet-view.js';
import { OPERATOR_TO_WIRE } from './convert.js';

export function adminServiceImpl(view: FleetView): ServiceImpl<typeof AdminService> {
  return {
    listFactories() {
      return create(ListFactoriesResponseSchema, {
        factories: view.factories().map((f) =>
          create(FactorySchema, {
            id: f.factoryId,
            labels: f.labels,
            slots: f.slots,
            freeSlots: f.freeSlots,
            agentVersion: f.agentVersion,
            state: f.draining ? FactoryState.DRAINING : FactoryState.CONNECTED,
            connectTime: timestampFromMs(f.connectedAt),
            lastSeenTime: timestampFromMs(f.lastSeenAt),
            jobIds: f.jobIds,
          }),
        ),
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

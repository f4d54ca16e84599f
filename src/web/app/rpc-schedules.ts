/** The ScheduleService client, over the app's one transport (rpc.ts). */
import { createClient } from '@connectrpc/connect';
import { ScheduleService } from '../../../gen/ts/gigafactory/fleet/v1/schedule_service_pb.js';
import { transport } from './rpc.js';

export const scheduleService = createClient(ScheduleService, transport);

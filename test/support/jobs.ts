/** Helpers over a JobService client: wait for stages through WatchJobs, read whole logs. */
import type { Client } from '@connectrpc/connect';
import type { JobStage } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import type { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';

/** Resolves when the job reaches one of `stages` (its history counts, so no race with the caller). */
export async function waitForStage(jobs: Client<typeof JobService>, jobId: string, ...stages: JobStage[]): Promise<void> {
  for await (const res of jobs.watchJobs({ jobId })) {
    if (stages.includes(res.event!.toStage)) return;
  }
}

export async function readLogs(jobs: Client<typeof JobService>, jobId: string): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const res of jobs.tailLogs({ jobId })) text += decoder.decode(res.chunk!.data, { stream: true });
  return text;
}

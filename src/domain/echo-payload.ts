/**
 * The body of a tracker echo: one job event of a job made from a tracker item, in snake_case JSON
 * (what webhook receivers expect). `event_id` is `<job id>:<revision>`, the same on every retry, so
 * a receiver deduplicates by it.
 */
import type { JobEventRecord } from './job.js';

export interface EchoPayload {
  event_id: string;
  job_id: string;
  product_id: string;
  external_id: string;
  external_url: string;
  revision: number;
  kind: string;
  from_stage: string | null;
  to_stage: string;
  actor: string;
  message: string;
  /** When the change happened (ISO 8601), not when it was sent. */
  time: string;
}

export function echoPayload(eventId: string, externalId: string, externalUrl: string, event: JobEventRecord): EchoPayload {
  return {
    event_id: eventId,
    job_id: event.jobId,
    product_id: event.productId,
    external_id: externalId,
    external_url: externalUrl,
    revision: event.revision,
    kind: event.kind,
    from_stage: event.fromStage,
    to_stage: event.toStage,
    actor: event.actor,
    message: event.message,
    time: new Date(event.at).toISOString(),
  };
}

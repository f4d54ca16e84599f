/** TrackerService handlers: wire ↔ domain for tracker items; the rules live in coordinator/tracker-ingest.ts. */
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  IngestItemResponseSchema,
  IngestItemsResponseSchema,
  IngestOutcome,
  IngestResultSchema,
  TrackerService,
  type IngestResult as WireIngestResult,
  type TrackerItem as WireTrackerItem,
} from '../../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import { DomainError, invalidArgument } from '../domain/errors.js';
import type { JobRecord } from '../domain/job.js';
import type { TrackerItem } from '../domain/tracker-item.js';
import { MAX_ITEMS_PER_BATCH, type IngestResult, type TrackerIngest } from '../coordinator/tracker-ingest.js';
import { jobToWire, operatorFromWire } from './convert.js';
import { actorOf } from './actor.js';

const OUTCOME_TO_WIRE: Record<IngestResult['outcome'], IngestOutcome> = {
  created: IngestOutcome.CREATED,
  updated: IngestOutcome.UPDATED,
  unchanged: IngestOutcome.UNCHANGED,
  skipped: IngestOutcome.SKIPPED,
  invalid: IngestOutcome.INVALID,
};

/**
 * `annotate` adds what a reader of the job should know that the record does not hold (why a queued
 * job of a paused product waits: Budgets.annotate), as every JobService answer does.
 */
export function trackerServiceImpl(ingest: TrackerIngest, annotate: (job: JobRecord) => JobRecord): ServiceImpl<typeof TrackerService> {
  const toWire = (result: IngestResult): WireIngestResult => resultToWire(result, annotate);
  return {
    /** One item: an invalid item is INVALID_ARGUMENT, as any other bad request. */
    async ingestItem(req, ctx) {
      if (!req.item) throw invalidArgument('item is required');
      const result = await ingest.ingest(itemFromWire(req.item, 'item'), actorOf(ctx), req.dryRun);
      if (result.outcome === 'invalid') throw invalidArgument(`item ${result.externalId || '(no external_id)'}: ${result.reason}`);
      return create(IngestItemResponseSchema, { result: toWire(result) });
    },

    /** A batch: an invalid item is an INVALID result with its reason; the others go ahead. */
    async ingestItems(req, ctx) {
      if (req.items.length === 0) throw invalidArgument('items must have at least one item');
      if (req.items.length > MAX_ITEMS_PER_BATCH) throw invalidArgument(`items has ${req.items.length} items; at most ${MAX_ITEMS_PER_BATCH} per request`);
      const results: WireIngestResult[] = new Array<WireIngestResult>(req.items.length);
      const valid: { index: number; item: TrackerItem }[] = [];
      for (const [index, wire] of req.items.entries()) {
        try {
          valid.push({ index, item: itemFromWire(wire, `items[${index}]`) });
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          results[index] = create(IngestResultSchema, { externalId: wire.externalId, outcome: IngestOutcome.INVALID, reason: err.message });
        }
      }
      const ingested = await ingest.ingestAll(valid.map((v) => v.item), actorOf(ctx), req.dryRun);
      ingested.forEach((result, i) => (results[valid[i]!.index] = toWire(result)));
      return create(IngestItemsResponseSchema, { results });
    },
  };
}

function itemFromWire(item: WireTrackerItem, where: string): TrackerItem {
  return {
    externalId: item.externalId,
    title: item.title,
    productId: item.productId,
    labels: { ...item.labels },
    commandTemplate: [...item.commandTemplate],
    url: item.url,
    priority: item.priority,
    requiredLabels: item.requiredLabels.map((r, i) => {
      const operator = operatorFromWire(r.operator);
      if (!operator) throw invalidArgument(`${where}.required_labels[${i}].operator must be set to a known LABEL_OPERATOR_* value`);
      return { key: r.key, operator, values: [...r.values] };
    }),
  };
}

function resultToWire(result: IngestResult, annotate: (job: JobRecord) => JobRecord): WireIngestResult {
  return create(IngestResultSchema, {
    externalId: result.externalId,
    outcome: OUTCOME_TO_WIRE[result.outcome],
    reason: result.reason,
    ...(result.job ? { job: jobToWire(annotate(result.job)) } : {}),
  });
}

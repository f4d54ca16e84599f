/**
 * Placement decisions in Cosmos DB, shared by every replica: one `decision` document per job and
 * epoch, `dec:<job>:<epoch>`, in the jobs container under the job's product, so a repeat is a 409
 * (ignored), an outcome is one patch on a known id and partition, and a product's list is a
 * single-partition query on the indexed `decidedAt`.
 *
 * Cosmos has no OFFSET/LIMIT to delete "everything past the keep-th newest", so retention counts the
 * product's decisions after an append and deletes the oldest surplus, at most MAX_TRIMMED_PER_APPEND
 * per product per append. That bound is above the largest batch the decision log writes (FLUSH_AT in
 * coordinator/decision-log.ts), so a product overshoots `keep` only transiently and is back at
 * `keep` after a few appends, whatever its backlog.
 */
import type { Container, SqlQuerySpec } from '@azure/cosmos';
import type { AttemptEnd, DecisionOutcome, PlacementDecision } from '../../domain/placement-decision.js';
import { DECISIONS_KEPT_PER_PRODUCT, type DecisionStore } from '../decision-store.js';
import { statusOf } from './control.js';
import { docId, type SystemFields } from './documents.js';

/** Oldest decisions deleted per product per append (see above); each is one delete round trip. */
export const MAX_TRIMMED_PER_APPEND = 1_000;
/** Writes (creates, patches, deletes) in flight at once for one call. */
const CONCURRENT_WRITES = 16;

interface DecisionDoc extends SystemFields {
  id: string;
  productId: string;
  type: 'decision';
  /** Indexed: lists and retention sort on it. */
  decidedAt: number;
  /** The decision as placed (its outcome null); the attempt's outcome lives beside it. */
  decision: PlacementDecision;
  outcome: DecisionOutcome | null;
}

/** What the decision store needs from the job store whose container it shares. */
export interface CosmosDecisionDeps {
  container: Container;
  count<T extends { requestCharge?: number }>(operation: string, request: () => Promise<T>): Promise<T>;
  query<T>(operation: string, spec: SqlQuerySpec, limit: number, partitionKey?: string): Promise<T[]>;
  /** MAX_TRIMMED_PER_APPEND but in tests, which show the bound without a thousand documents. */
  maxTrimmedPerAppend: number;
}

function decisionDocId(jobId: string, epoch: number): string {
  return `dec:${docId(jobId)}:${epoch}`;
}

export class CosmosDecisionStore implements DecisionStore {
  constructor(private readonly deps: CosmosDecisionDeps) {}

  async appendDecisions(decisions: readonly PlacementDecision[], keep = DECISIONS_KEPT_PER_PRODUCT): Promise<void> {
    await inBatches(decisions, async (d) => {
      const doc: DecisionDoc = { id: decisionDocId(d.jobId, d.epoch), productId: d.productId, type: 'decision', decidedAt: d.decidedAt, decision: { ...d, outcome: null }, outcome: null };
      try {
        await this.deps.count('insert.decision', () => this.deps.container.items.create(doc));
      } catch (err) {
        if (statusOf(err) !== 409) throw err; // 409: a replayed batch; the first copy stands
      }
    });
    for (const product of new Set(decisions.map((d) => d.productId))) await this.#trim(product, keep);
  }

  async recordOutcomes(ends: readonly AttemptEnd[]): Promise<void> {
    await inBatches(ends, async (end) => {
      try {
        await this.deps.count('patch.decision', () => this.deps.container.item(decisionDocId(end.jobId, end.epoch), end.productId).patch([{ op: 'set', path: '/outcome', value: end.outcome }]));
      } catch (err) {
        if (statusOf(err) !== 404) throw err; // no decision: dropped, trimmed, or placed before decisions were kept
      }
    });
  }

  async listDecisions(productId: string, limit: number, since = 0): Promise<PlacementDecision[]> {
    const rows = await this.deps.query<{ decision: PlacementDecision; outcome: DecisionOutcome | null }>(
      'query.decisions',
      {
        query: "SELECT c.decision, c.outcome FROM c WHERE c.type = 'decision' AND c.productId = @productId AND c.decidedAt >= @since ORDER BY c.decidedAt DESC",
        parameters: [
          { name: '@productId', value: productId },
          { name: '@since', value: since },
        ],
      },
      limit,
      productId,
    );
    return rows.map((row) => ({ ...row.decision, outcome: row.outcome }));
  }

  /** Deletes the product's oldest decisions beyond `keep`, at most maxTrimmedPerAppend of them. */
  async #trim(productId: string, keep: number): Promise<void> {
    const parameters = [{ name: '@productId', value: productId }];
    const [stored = 0] = await this.deps.query<number>('count.decisions', { query: "SELECT VALUE COUNT(1) FROM c WHERE c.type = 'decision' AND c.productId = @productId", parameters }, 1, productId);
    const surplus = Math.min(stored - keep, this.deps.maxTrimmedPerAppend);
    if (surplus <= 0) return;
    const oldest = await this.deps.query<string>(
      'query.oldestDecisions',
      { query: "SELECT VALUE c.id FROM c WHERE c.type = 'decision' AND c.productId = @productId ORDER BY c.decidedAt ASC", parameters },
      surplus,
      productId,
    );
    await inBatches(oldest, async (id) => {
      try {
        await this.deps.count('delete.decision', () => this.deps.container.item(id, productId).delete());
      } catch (err) {
        if (statusOf(err) !== 404) throw err; // another replica trimmed it first
      }
    });
  }
}

/** Runs `write` over `items`, CONCURRENT_WRITES at a time. */
async function inBatches<T>(items: readonly T[], write: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += CONCURRENT_WRITES) await Promise.all(items.slice(i, i + CONCURRENT_WRITES).map(write));
}

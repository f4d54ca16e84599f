/** Placement decisions in memory (tests, and a coordinator over a given store): the SQLite provider's rules. */
import type { AttemptEnd, PlacementDecision } from '../../domain/placement-decision.js';
import { DECISIONS_KEPT_PER_PRODUCT, type DecisionStore } from '../decision-store.js';

export class MemoryDecisionStore implements DecisionStore {
  /** By product, oldest first; and by "job id/epoch". */
  readonly #byProduct = new Map<string, PlacementDecision[]>();
  readonly #byKey = new Map<string, PlacementDecision>();

  async appendDecisions(decisions: readonly PlacementDecision[], keep = DECISIONS_KEPT_PER_PRODUCT): Promise<void> {
    for (const d of decisions) {
      const key = `${d.jobId}/${d.epoch}`;
      if (this.#byKey.has(key)) continue;
      const copy = structuredClone(d);
      this.#byKey.set(key, copy);
      const list = this.#byProduct.get(d.productId) ?? [];
      list.push(copy);
      this.#byProduct.set(d.productId, list);
    }
    for (const list of this.#byProduct.values()) {
      list.sort((a, b) => a.decidedAt - b.decidedAt);
      for (const dropped of list.splice(0, Math.max(0, list.length - keep))) this.#byKey.delete(`${dropped.jobId}/${dropped.epoch}`);
    }
  }

  async recordOutcomes(ends: readonly AttemptEnd[]): Promise<void> {
    for (const end of ends) {
      const d = this.#byKey.get(`${end.jobId}/${end.epoch}`);
      if (d) d.outcome = { ...end.outcome };
    }
  }

  async listDecisions(productId: string, limit: number, since = 0): Promise<PlacementDecision[]> {
    const list = this.#byProduct.get(productId) ?? [];
    return list
      .filter((d) => d.decidedAt >= since)
      .reverse()
      .slice(0, limit)
      .map((d) => structuredClone(d));
  }
}

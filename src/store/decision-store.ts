/**
 * Placement decisions and their outcomes (domain/placement-decision.ts), kept for the offline
 * evaluation of scoring weights. Written in batches off the dispatch path (coordinator/decision-log.ts)
 * and kept to the newest DECISIONS_KEPT_PER_PRODUCT per product.
 */
import type { AttemptEnd, PlacementDecision } from '../domain/placement-decision.js';

/** Decisions kept per product: enough for a recommendation many times over, bounded on disk (~1 KB each). */
export const DECISIONS_KEPT_PER_PRODUCT = 20_000;

export interface DecisionStore {
  /** Stores decisions (a repeat of a job and epoch is ignored) and drops each product's oldest beyond `keep`. */
  appendDecisions(decisions: readonly PlacementDecision[], keep?: number): Promise<void>;
  /** Attaches each outcome to its decision; an outcome without one (dropped, or another store's) is ignored. */
  recordOutcomes(ends: readonly AttemptEnd[]): Promise<void>;
  /** A product's newest decisions, newest first, at most `limit`, decided at or after `since`. */
  listDecisions(productId: string, limit: number, since?: number): Promise<PlacementDecision[]>;
}

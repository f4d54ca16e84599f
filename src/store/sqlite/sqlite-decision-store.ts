/**
 * Placement decisions in the coordinator's SQLite file (table placement_decisions, migration 10), on
 * a connection of its own so a batch of them never waits behind, or holds up, the jobs' group commit.
 */
import type Database from 'better-sqlite3';
import type { AttemptEnd, DecisionOutcome, PlacementDecision } from '../../domain/placement-decision.js';
import { DECISIONS_KEPT_PER_PRODUCT, type DecisionStore } from '../decision-store.js';
import { openConnection } from './connection.js';

type Row = { doc: string; outcome: string | null };

export class SqliteDecisionStore implements DecisionStore {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<[string, number, string, number, string]>;
  readonly #prune: Database.Statement<[string, string, number]>;
  readonly #outcome: Database.Statement<[string, string, number]>;
  readonly #list: Database.Statement<[string, number, number], Row>;

  constructor(path: string) {
    this.#db = openConnection(path);
    this.#insert = this.#db.prepare('INSERT INTO placement_decisions (job_id, epoch, product_id, decided_at, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id, epoch) DO NOTHING');
    // Everything older than the product's keep-th newest row goes (nothing while there are fewer).
    this.#prune = this.#db.prepare(
      `DELETE FROM placement_decisions WHERE product_id = ? AND decided_at < (
         SELECT decided_at FROM placement_decisions WHERE product_id = ? ORDER BY decided_at DESC LIMIT 1 OFFSET ?)`,
    );
    this.#outcome = this.#db.prepare('UPDATE placement_decisions SET outcome = ? WHERE job_id = ? AND epoch = ?');
    this.#list = this.#db.prepare('SELECT doc, outcome FROM placement_decisions WHERE product_id = ? AND decided_at >= ? ORDER BY decided_at DESC LIMIT ?');
  }

  async appendDecisions(decisions: readonly PlacementDecision[], keep = DECISIONS_KEPT_PER_PRODUCT): Promise<void> {
    this.#db.transaction(() => {
      for (const d of decisions) this.#insert.run(d.jobId, d.epoch, d.productId, d.decidedAt, JSON.stringify({ ...d, outcome: null }));
      for (const product of new Set(decisions.map((d) => d.productId))) this.#prune.run(product, product, keep - 1);
    })();
  }

  async recordOutcomes(ends: readonly AttemptEnd[]): Promise<void> {
    this.#db.transaction(() => {
      for (const end of ends) this.#outcome.run(JSON.stringify(end.outcome), end.jobId, end.epoch);
    })();
  }

  async listDecisions(productId: string, limit: number, since = 0): Promise<PlacementDecision[]> {
    return this.#list.all(productId, since, limit).map((row) => ({ ...(JSON.parse(row.doc) as PlacementDecision), outcome: row.outcome === null ? null : (JSON.parse(row.outcome) as DecisionOutcome) }));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

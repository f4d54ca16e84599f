/**
 * Per-product settings operators change through AdminService (scoring weights, the product's
 * fair-share weight, and its budget). One small record per product, replaced with compare-and-set like a job.
 */
import type { ArtifactRetention } from '../domain/artifact.js';
import type { BudgetConfig } from '../domain/budget.js';
import type { SchedulingWeights } from '../domain/scheduler.js';

export interface ProductSettings {
  productId: string;
  /** Overrides of the default scoring weights; absent names use the defaults. */
  weights: Partial<SchedulingWeights>;
  /** The product's weight in fair sharing (1 = an equal share). */
  shareWeight: number;
  /** +1 on every change; 0 for a product never configured. */
  revision: number;
  updatedAt: number;
  /** Who changed it last (an operator key's name, or "api"). */
  updatedBy: string;
  /** The product's budget (AdminService.SetBudget, PauseBudget); absent for a product never given one. */
  budget?: BudgetConfig;
  /** How long the product's artifacts are kept and how many bytes they may take (absent: no limits). */
  artifactRetention?: ArtifactRetention;
}

export function defaultProductSettings(productId: string): ProductSettings {
  return { productId, weights: {}, shareWeight: 1, revision: 0, updatedAt: 0, updatedBy: '' };
}

export interface SettingsStore {
  /** The stored settings, or null for a product never configured. */
  getProductSettings(productId: string): Promise<ProductSettings | null>;
  listProductSettings(): Promise<ProductSettings[]>;
  /** Compare-and-set on `next.revision - 1`; throws RevisionConflict when someone else changed it. */
  putProductSettings(next: ProductSettings): Promise<void>;
}

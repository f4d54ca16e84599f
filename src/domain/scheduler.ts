/**
 * Scheduling: hard filters first, then weighted scoring among what passes, with every term kept so
 * an operator can see why a job went where it went. Pure: the coordinator gathers the candidates
 * (a bounded page of runnable jobs, the connected factories) and applies the decision.
 *
 * Cost per dispatch decision: O(J) for J runnable jobs examined (a bounded page, never the whole
 * queue) plus at most SCORED_FACTORIES scores, however large the fleet: see planDispatch.
 */
import type { BudgetGate } from './budget.js';
import { invalidArgument } from './errors.js';
import type { JobRecord, LabelRequirement } from './job.js';
import { firstUnmetRequirement } from './labels.js';
import { fnv1a } from './seeded-random.js';

export const WEIGHT_NAMES = ['priority', 'aging', 'affinity', 'load', 'fairShare', 'costClass'] as const;
export type WeightName = (typeof WEIGHT_NAMES)[number];
export type SchedulingWeights = Record<WeightName, number>;

/**
 * Defaults chosen so priority dominates, a job waiting ~10 minutes gains one priority point's worth
 * (so low priority never starves), and fair share can outweigh a few priority points.
 */
export const DEFAULT_WEIGHTS: SchedulingWeights = { priority: 10, aging: 1, affinity: 5, load: 2, fairShare: 20, costClass: 3 };
export const MAX_WEIGHT = 1_000;

/** What the scorer knows about a factory. */
export interface FactoryCandidate {
  factoryId: string;
  labels: Readonly<Record<string, string>>;
  slots: number;
  freeSlots: number;
  draining: boolean;
  /** Products this factory ran recently, most recent first (warm caches). */
  recentProducts: readonly string[];
  /** Whether its enrollment lets it serve a product (absent: any product). */
  mayServe?: (productId: string) => boolean;
}

/** Fleet-wide state fair share needs: running jobs per product and each product's share weight. */
export interface FairShareState {
  runningByProduct: ReadonlyMap<string, number>;
  /** Products with queued work and their share weights (default 1). */
  demandWeights: ReadonlyMap<string, number>;
}

export interface FilterCheck {
  name: 'labels' | 'scope' | 'slots' | 'draining' | 'budget' | 'rate';
  passed: boolean;
  detail: string;
}

export interface ScoreBreakdown {
  total: number;
  terms: Record<WeightName, number>;
}

export interface Explanation {
  factoryId: string;
  passed: boolean;
  checks: FilterCheck[];
  /** Present when every check passed. */
  score: ScoreBreakdown | null;
}

/** The hard filters, each with a sentence an operator can read. */
export function filterFactory(job: JobRecord, factory: FactoryCandidate): FilterCheck[] {
  const unmet = firstUnmetRequirement(job.requiredLabels, factory.labels);
  return [
    {
      name: 'labels',
      passed: unmet === null,
      detail: unmet ? `label ${describeRequirement(unmet)} not met (factory has ${unmet.key}=${factory.labels[unmet.key] ?? '<none>'})` : 'all required labels match',
    },
    servesCheck(job, factory),
    { name: 'draining', passed: !factory.draining, detail: factory.draining ? 'factory is draining' : 'taking work' },
    { name: 'slots', passed: factory.freeSlots > 0, detail: `${factory.freeSlots} of ${factory.slots} slots free` },
  ];
}

/**
 * The weighted score of running `job` on `factory` now. Each term is its raw signal times its weight:
 * - priority: the job's priority;
 * - aging: minutes the job has been runnable;
 * - affinity: 1 when the factory recently ran this product;
 * - load: the factory's free fraction, spreading work;
 * - fairShare: how far the product is below its weighted share of running jobs (negative above it);
 * - costClass: +1 for a factory labelled cost=low, -1 for cost=high.
 */
export function scoreCandidate(job: JobRecord, factory: FactoryCandidate, fairness: FairShareState, now: number, weights: SchedulingWeights): ScoreBreakdown {
  const own = jobTerms(job, fairness, now, weights);
  const terms: Record<WeightName, number> = {
    priority: own.priority,
    aging: own.aging,
    affinity: affinityTerm(job, factory, weights),
    load: loadTerm(factory, factory.freeSlots, weights),
    fairShare: own.fairShare,
    costClass: costTerm(factory, weights),
  };
  return { total: totalScore(own, job, factory, factory.freeSlots, weights), terms: mapValues(terms, round) };
}

/** The terms that depend on the job and the fleet's fair-share state only: the same on every factory. */
interface JobTerms {
  priority: number;
  aging: number;
  fairShare: number;
}

function jobTerms(job: JobRecord, fairness: FairShareState, now: number, weights: SchedulingWeights): JobTerms {
  return {
    priority: weights.priority * job.priority,
    aging: weights.aging * waitedMinutes(job, now),
    fairShare: weights.fairShare * shareDeficit(job.productId, fairness),
  };
}

/** Minutes the job has been runnable: since it was created, or since its requested start. */
function waitedMinutes(job: JobRecord, now: number): number {
  return Math.max(0, now - Math.max(job.createdAt, Math.min(job.notBefore, now))) / 60_000;
}

function affinityTerm(job: JobRecord, factory: FactoryCandidate, weights: SchedulingWeights): number {
  return weights.affinity * (factory.recentProducts.includes(job.productId) ? 1 : 0);
}

function loadTerm(factory: FactoryCandidate, freeSlots: number, weights: SchedulingWeights): number {
  return weights.load * (factory.slots > 0 ? freeSlots / factory.slots : 0);
}

function costTerm(factory: FactoryCandidate, weights: SchedulingWeights): number {
  return weights.costClass * costSignal(factory.labels.cost);
}

/**
 * The total of scoreCandidate's terms without building them: planDispatch computes it for every
 * factory it considers and the breakdown only for the one it picks. Summed in WEIGHT_NAMES order,
 * from 0, exactly as the breakdown would be, so both give the same total to the last bit.
 */
function totalScore(own: JobTerms, job: JobRecord, factory: FactoryCandidate, freeSlots: number, weights: SchedulingWeights): number {
  return round(0 + own.priority + own.aging + affinityTerm(job, factory, weights) + loadTerm(factory, freeSlots, weights) + own.fairShare + costTerm(factory, weights));
}

/**
 * Every factory's filters and, where they pass, its score: what ExplainScore shows. The product's
 * budget is a filter too (the same verdict on every factory): `budgetRefusal` says why it fails;
 * so is its dispatch rate, when it has one (`rate`).
 */
export function explain(
  job: JobRecord,
  factories: readonly FactoryCandidate[],
  fairness: FairShareState,
  now: number,
  weights: SchedulingWeights,
  budgetRefusal: string | null = null,
  rate: FilterCheck | null = null,
): Explanation[] {
  const budget: FilterCheck = { name: 'budget', passed: budgetRefusal === null, detail: budgetRefusal ?? `within product ${job.productId}'s budget` };
  const product = rate ? [budget, rate] : [budget];
  return factories.map((factory) => {
    const checks = [...filterFactory(job, factory), ...product];
    const passed = checks.every((c) => c.passed);
    return { factoryId: factory.factoryId, passed, checks, score: passed ? scoreCandidate(job, factory, fairness, now, weights) : null };
  });
}

/**
 * Why a queued job may not run yet for time alone (null when it may): its requested start (run_at,
 * delay) or a retry's back-off, with how long is left, e.g. "scheduled to run at ... (in 25m)".
 */
export function timeWait(job: JobRecord, now: number): string | null {
  if (job.stage !== 'queued' || job.notBefore <= now) return null;
  const when = `${new Date(job.notBefore).toISOString()} (in ${humanDuration(job.notBefore - now)})`;
  return job.runAt === job.notBefore ? `scheduled to run at ${when}` : `backing off until ${when}`;
}

/** "45s", "25m", "3h 5m", "2d 4h": the largest two units, for sentences people read. */
export function humanDuration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  const units: [number, string][] = [[86_400, 'd'], [3_600, 'h'], [60, 'm']];
  const parts: string[] = [];
  let rest = s;
  for (const [size, unit] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.filter((p, i) => i === 0 || !p.startsWith('0')).join(' ');
}

/** The reason a job waits for its concurrency key, as ExplainScore and the dispatcher say it. */
export function concurrencyWait(key: string, active: number, limit: number): string {
  return `waiting: concurrency key ${key} at its limit ${active}/${limit}`;
}

/**
 * A hard filter of one pass whose verdict changes as the pass places jobs (a concurrency key's
 * places, a product's dispatch rate): planDispatch asks before a placement and reserves after one.
 */
export interface PlacementGate {
  /** Why `job` may not be placed now, or null when it may. */
  refusal(job: JobRecord): string | null;
  /** A placement of `job` takes one of its places for the rest of the pass. */
  reserve(job: JobRecord): void;
}

/**
 * The concurrency-key filter of one pass: at most concurrencyLimit jobs per key hold a lease,
 * counting the leases in the store (`active`, every replica's) plus this pass's own placements.
 */
export function concurrencyGate(active: ReadonlyMap<string, number>): PlacementGate {
  const counts = new Map(active);
  return {
    refusal(job) {
      if (job.concurrencyKey === undefined) return null;
      const held = counts.get(job.concurrencyKey) ?? 0;
      const limit = job.concurrencyLimit ?? 1;
      return held >= limit ? concurrencyWait(job.concurrencyKey, held, limit) : null;
    },
    reserve(job) {
      if (job.concurrencyKey !== undefined) counts.set(job.concurrencyKey, (counts.get(job.concurrencyKey) ?? 0) + 1);
    },
  };
}

export interface Placement {
  job: JobRecord;
  factory: FactoryCandidate;
  score: ScoreBreakdown;
  /** The raw signals the choice was made on: of the chosen factory and the best few it beat. */
  features: PlacementFeatures;
}

/** A term's signal before its weight is applied: the weighted score is the sum of weight × signal. */
export type ScoreSignals = Record<WeightName, number>;

export interface CandidateSignals {
  factoryId: string;
  signals: ScoreSignals;
}

export interface PlacementFeatures {
  chosen: CandidateSignals;
  /** The runners-up, best first, at most RECORDED_RUNNERS_UP. */
  rejected: CandidateSignals[];
}

/** Rejected factories recorded per placement: enough to replay most choices under other weights. */
export const RECORDED_RUNNERS_UP = 4;

/**
 * Each term's signal for `job` on the ranked factories (best first): what the weights multiply.
 * Plain literals of one shape, built only for the few factories recorded, because it runs for
 * every placement.
 */
function placementFeatures(job: JobRecord, ranked: readonly number[], factories: readonly FactoryCandidate[], freeAt: (index: number) => number, aging: number, fairShare: number): PlacementFeatures {
  const rejected: CandidateSignals[] = [];
  let chosen: CandidateSignals | null = null;
  for (const i of ranked) {
    const factory = factories[i]!;
    const signals: ScoreSignals = {
      priority: job.priority,
      aging,
      affinity: factory.recentProducts.includes(job.productId) ? 1 : 0,
      load: factory.slots > 0 ? freeAt(i) / factory.slots : 0,
      fairShare,
      costClass: costSignal(factory.labels.cost),
    };
    if (chosen === null) chosen = { factoryId: factory.factoryId, signals };
    else rejected.push({ factoryId: factory.factoryId, signals });
  }
  return { chosen: chosen!, rejected };
}

/** Defaults, then the product's stored override, then the request's override; each validated. */
export function resolveWeights(
  defaults: SchedulingWeights,
  product: Partial<SchedulingWeights> | null,
  request: Partial<SchedulingWeights> | null,
): SchedulingWeights {
  return { ...defaults, ...validateWeights(product ?? {}, 'product weights'), ...validateWeights(request ?? {}, 'weights') };
}

/** Checks partial weights: known names, finite, within [0, MAX_WEIGHT]. Throws INVALID_ARGUMENT naming the field. */
export function validateWeights(weights: Partial<Record<string, number>>, where: string): Partial<SchedulingWeights> {
  for (const [name, value] of Object.entries(weights)) {
    if (!(WEIGHT_NAMES as readonly string[]).includes(name)) throw invalidArgument(`${where}.${name} is not a scoring weight (known: ${WEIGHT_NAMES.join(', ')})`);
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < 0 || value > MAX_WEIGHT) throw invalidArgument(`${where}.${name} ${value} must be from 0 to ${MAX_WEIGHT}`);
  }
  return weights as Partial<SchedulingWeights>;
}

/** A running job that could make room for a more urgent one. */
export interface RunningCandidate {
  job: JobRecord;
  factory: FactoryCandidate;
}

/** A job preempted this recently after an earlier preemption is left alone, so it cannot thrash. */
export const PREEMPTION_PROTECTION_MS = 10 * 60_000;

/**
 * The job to stop so `waiting` can run: only jobs of strictly lower priority, on factories `waiting`
 * could use (its labels pass; a free slot is what preemption makes), not protected. Among those:
 * lowest priority, then least work lost (started most recently), then newest.
 */
export function selectPreemptionVictim(waiting: JobRecord, running: readonly RunningCandidate[], now: number): RunningCandidate | null {
  let best: RunningCandidate | null = null;
  for (const candidate of running) {
    const { job, factory } = candidate;
    if (job.priority >= waiting.priority || factory.draining) continue;
    if (!eligible(waiting, factory)) continue;
    if (isProtected(job, now)) continue;
    if (!best || victimOrder(job, best.job) < 0) best = candidate;
  }
  return best;
}

/** Preempted twice in a row within the protection window: leave it to finish. */
export function isProtected(job: JobRecord, now: number): boolean {
  return job.preemptionStreak >= 2 && job.lastPreemptedAt !== null && now - job.lastPreemptedAt < PREEMPTION_PROTECTION_MS;
}

function victimOrder(a: JobRecord, b: JobRecord): number {
  return a.priority - b.priority || (b.startedAt ?? 0) - (a.startedAt ?? 0) || b.createdAt - a.createdAt || a.id.localeCompare(b.id);
}

function servesCheck(job: JobRecord, factory: FactoryCandidate): FilterCheck {
  const passed = factory.mayServe?.(job.productId) ?? true;
  return { name: 'scope', passed, detail: passed ? `may serve product ${job.productId}` : `enrollment does not allow product ${job.productId}` };
}

/** Labels and enrollment scope: what a factory must pass whatever its load. */
function eligible(job: JobRecord, factory: FactoryCandidate): boolean {
  return firstUnmetRequirement(job.requiredLabels, factory.labels) === null && (factory.mayServe?.(job.productId) ?? true);
}

function shareDeficit(productId: string, fairness: FairShareState): number {
  const totalWeight = [...fairness.demandWeights.values()].reduce((a, b) => a + b, 0);
  if (totalWeight === 0) return 0;
  const totalRunning = [...fairness.runningByProduct.values()].reduce((a, b) => a + b, 0);
  const target = (fairness.demandWeights.get(productId) ?? 1) / totalWeight;
  const actual = totalRunning === 0 ? 0 : (fairness.runningByProduct.get(productId) ?? 0) / totalRunning;
  return target - actual;
}

function costSignal(cost: string | undefined): number {
  return cost === 'low' ? 1 : cost === 'high' ? -1 : 0;
}

export function describeRequirement(r: LabelRequirement): string {
  switch (r.operator) {
    case 'exists':
      return `${r.key} (must exist)`;
    case 'not_exists':
      return `!${r.key} (must not exist)`;
    case 'equals':
      return `${r.key}=${r.values[0] ?? ''}`;
    case 'in':
      return `${r.key} in ${r.values.join('|')}`;
    case 'not_in':
      return `${r.key} not in ${r.values.join('|')}`;
    case 'gte':
      return `${r.key}>=${r.values[0] ?? ''}`;
    case 'lte':
      return `${r.key}<=${r.values[0] ?? ''}`;
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** A plain loop, not Object.fromEntries(entries): it runs for every placement. */
function mapValues<K extends string>(o: Record<K, number>, f: (n: number) => number): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k in o) out[k] = f(o[k]);
  return out;
}

/**
 * Factories scored per placement, at most. Up to this many eligible factories with a free slot, a job
 * goes to the best of all of them; in a larger fleet, to the best of this many, taken in fleet order
 * from a place that depends on the job (so jobs spread over the fleet). Scoring every factory made
 * a placement cost O(F): about 4 ms per job with 10,000 factories connected, which capped dispatch
 * at a few hundred jobs/s however fast the rest was. Kubernetes (percentageOfNodesToScore, at least
 * 100 nodes) and Nomad (a limit on the nodes ranked) bound the search the same way.
 */
export const SCORED_FACTORIES = 100;

/**
 * Plans one dispatch pass: which runnable jobs go to which free slots, best first, never more
 * placements than free slots, never to a factory failing a hard filter, and never beyond the
 * product's budget (each placement reserves its estimate in `budgets` for the rest of the pass),
 * nor past any of `gates` (a concurrency key's limit, a product's dispatch rate; likewise).
 *
 * Jobs are queued per product (best base score first: priority + aging). Each step takes the product
 * whose head scores highest once its current fair-share deficit is added, so fair share is re-judged
 * after every placement, and gives that job the factory where its full score is highest among at
 * most SCORED_FACTORIES eligible ones.
 * Cost: O(J log J + P × (S + Q)) for J jobs, P placements, S = SCORED_FACTORIES (more only while
 * scanning past factories that are full or fail a filter) and Q products with work; the size of the
 * fleet adds nothing until it is nearly full.
 */
export function planDispatch(
  runnable: readonly JobRecord[],
  factories: readonly FactoryCandidate[],
  fairness: FairShareState,
  now: number,
  weightsFor: (job: JobRecord) => SchedulingWeights,
  budgets: BudgetGate | null = null,
  gates: readonly PlacementGate[] = [],
): Placement[] {
  // Slots this plan took, by index into `factories`. The candidates are neither copied nor filtered
  // up front: a placement reads only the factories it visits, so a pass costs the same in a fleet of
  // 10,000 as in one of 100 (the coordinator's candidates are live views of its sessions).
  const taken = new Map<number, number>();
  const freeAt = (i: number): number => {
    const factory = factories[i]!;
    return factory.draining ? 0 : factory.freeSlots - (taken.get(i) ?? 0);
  };
  const running = new Map(fairness.runningByProduct);
  const state: FairShareState = { runningByProduct: running, demandWeights: fairness.demandWeights };
  const queues = new Map<string, { job: JobRecord; base: number; weights: SchedulingWeights }[]>();
  for (const job of runnable) {
    const weights = weightsFor(job);
    const entry = { job, base: weights.priority * job.priority + weights.aging * waitedMinutes(job, now), weights };
    const queue = queues.get(job.productId) ?? [];
    queue.push(entry);
    queues.set(job.productId, queue);
  }
  for (const queue of queues.values()) queue.sort((a, b) => b.base - a.base || a.job.createdAt - b.job.createdAt || a.job.id.localeCompare(b.job.id));

  const placements: Placement[] = [];
  const heads = new Map<string, number>([...queues.keys()].map((p) => [p, 0]));
  for (;;) {
    let pick: { product: string; value: number; createdAt: number } | null = null;
    for (const [product, index] of heads) {
      const head = queues.get(product)![index];
      if (!head) continue;
      const value = head.base + head.weights.fairShare * shareDeficit(product, state);
      if (!pick || value > pick.value || (value === pick.value && head.job.createdAt < pick.createdAt)) pick = { product, value, createdAt: head.job.createdAt };
    }
    if (!pick) break;
    const index = heads.get(pick.product)!;
    heads.set(pick.product, index + 1);
    const { job, weights } = queues.get(pick.product)![index]!;
    if (budgets?.refusal(job)) continue; // paused, exhausted, or its estimate does not fit
    if (gates.some((gate) => gate.refusal(job) !== null)) continue; // its concurrency key or its product's rate is at its limit
    const ranked = bestFactories(job, factories, freeAt, jobTerms(job, state, now, weights), weights);
    if (ranked === FLEET_FULL) break;
    if (ranked.length === 0) continue; // no connected factory with a free slot can run it now
    const best = ranked[0]!;
    const factory = { ...factories[best]!, freeSlots: freeAt(best) };
    const features = placementFeatures(job, ranked, factories, freeAt, waitedMinutes(job, now), shareDeficit(job.productId, state));
    placements.push({ job, factory, score: scoreCandidate(job, factory, state, now, weights), features });
    budgets?.reserve(job);
    for (const gate of gates) gate.reserve(job);
    taken.set(best, (taken.get(best) ?? 0) + 1);
    running.set(job.productId, (running.get(job.productId) ?? 0) + 1);
  }
  return placements;
}

/** bestFactories found no factory with a free slot at all: nothing more can be placed in this plan. */
const FLEET_FULL = 'fleet_full';

/**
 * The indexes in `factories` of the factories where `job` scores highest, best first (ties: the
 * smaller factory id), at most 1 + RECORDED_RUNNERS_UP, among the first SCORED_FACTORIES eligible
 * ones with a free slot, scanning from a place derived from the job's id and wrapping around. Empty
 * when free slots exist but none on a factory that can run the job; FLEET_FULL when none is free.
 */
function bestFactories(
  job: JobRecord,
  factories: readonly FactoryCandidate[],
  freeAt: (index: number) => number,
  own: JobTerms,
  weights: SchedulingWeights,
): number[] | typeof FLEET_FULL {
  // The best few so far, best first, as two parallel arrays: a factory that does not make the list
  // (almost every one) costs one comparison and allocates nothing.
  const indexes: number[] = [];
  const totals: number[] = [];
  const kept = 1 + RECORDED_RUNNERS_UP;
  let scored = 0;
  let anyFree = false;
  const start = factories.length > SCORED_FACTORIES ? fnv1a(job.id) % factories.length : 0;
  for (let step = 0; step < factories.length && scored < SCORED_FACTORIES; step++) {
    const i = (start + step) % factories.length;
    const free = freeAt(i);
    if (free <= 0) continue;
    anyFree = true;
    const factory = factories[i]!;
    if (!eligible(job, factory)) continue;
    scored++;
    const total = totalScore(own, job, factory, free, weights);
    let at = indexes.length;
    while (at > 0 && (total > totals[at - 1]! || (total === totals[at - 1]! && factory.factoryId < factories[indexes[at - 1]!]!.factoryId))) at--;
    if (at >= kept) continue;
    indexes.splice(at, 0, i);
    totals.splice(at, 0, total);
    if (indexes.length > kept) {
      indexes.pop();
      totals.pop();
    }
  }
  return anyFree ? indexes : FLEET_FULL;
}

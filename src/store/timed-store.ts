/**
 * A JobStore decorator that reports how long each operation took and whether it lost a
 * compare-and-set, without the store or its callers knowing about metrics.
 */
import { RevisionConflict, type JobStore } from './job-store.js';

export type StoreOperation = Exclude<keyof JobStore, 'close'>;

export interface StoreObserver {
  /** One finished operation: its name, duration and result. */
  observe(operation: StoreOperation, seconds: number, outcome: 'ok' | 'conflict' | 'error'): void;
}

export function timedStore(store: JobStore, observer: StoreObserver): JobStore {
  const timed = <K extends StoreOperation>(operation: K): JobStore[K] =>
    (async (...args: unknown[]) => {
      const start = process.hrtime.bigint();
      let outcome: 'ok' | 'conflict' | 'error' = 'ok';
      try {
        return await (store[operation] as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      } catch (err) {
        outcome = err instanceof RevisionConflict ? 'conflict' : 'error';
        throw err;
      } finally {
        observer.observe(operation, Number(process.hrtime.bigint() - start) / 1e9, outcome);
      }
    }) as JobStore[K];
  return {
    insertJob: timed('insertJob'),
    getJob: timed('getJob'),
    findJobByIdempotencyKey: timed('findJobByIdempotencyKey'),
    replaceJob: timed('replaceJob'),
    listJobs: timed('listJobs'),
    listRunnable: timed('listRunnable'),
    listExpiredLeases: timed('listExpiredLeases'),
    listLeasedTo: timed('listLeasedTo'),
    countActiveByConcurrencyKey: timed('countActiveByConcurrencyKey'),
    countJobs: timed('countJobs'),
    listSpend: timed('listSpend'),
    listEvents: timed('listEvents'),
    appendLog: timed('appendLog'),
    readLogs: timed('readLogs'),
    close: () => store.close(),
  };
}

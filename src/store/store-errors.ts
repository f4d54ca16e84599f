/**
 * Store errors beyond RevisionConflict (job-store.ts). Kept apart so job-store.ts stays the bare
 * contract; every provider throws these so callers handle one type, not each driver's own error.
 */

/**
 * insertJob was given an id that is already stored (and no idempotency key matched). Ids are
 * minted by the coordinator, so this is a bug or a replayed write, never a client's mistake.
 */
export class DuplicateJobId extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} already exists`);
    this.name = 'DuplicateJobId';
  }
}

/** A call arrived after close(). */
export class StoreClosed extends Error {
  constructor() {
    super('the job store is closed');
    this.name = 'StoreClosed';
  }
}

/**
 * The store refused the call for want of throughput and kept refusing through every retry the
 * provider makes (Cosmos DB: 429, the container's request units per second spent). Nothing the
 * call asked for was done by the refused request; the caller may try again after `retryAfterMs`.
 */
export class StoreThrottled extends Error {
  constructor(
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(`the store is over its request-unit budget (retry after ${retryAfterMs} ms)`, options);
    this.name = 'StoreThrottled';
  }
}

/**
 * The store could not write for want of space: SQLite's SQLITE_FULL (disk or max_page_count), or
 * the operating system's ENOSPC from any file write.
 */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC';
}

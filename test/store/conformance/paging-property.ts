/**
 * A property over random job sets, filters and page sizes: walking listJobs page by page yields
 * exactly the filtered jobs, newest first, each once. Timestamps are drawn from a tiny range so
 * many jobs share a createdAt and the id tie-break in the cursor is what keeps pages apart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JOB_STAGES, type JobRecord, type LabelRequirement } from '../../../src/domain/job.js';
import type { JobCursor, JobQuery } from '../../../src/store/job-store.js';
import { T0, submitted } from '../builders.js';
import type { MakeStore } from './harness.js';

type Filter = Omit<JobQuery, 'limit' | 'after'>;

const arbLabel: fc.Arbitrary<LabelRequirement> = fc.record({
  key: fc.constantFrom('os', 'gpu', 'arch'),
  operator: fc.constantFrom('equals' as const, 'in' as const, 'exists' as const),
  values: fc.uniqueArray(fc.constantFrom('linux', 'arm', ''), { maxLength: 2 }),
});

const arbJob = fc.record({
  // Ids from [a-z0-9] sort the same by JS `<`, code point and SQLite BINARY collation.
  id: fc.stringMatching(/^[a-z0-9]{1,5}$/),
  productId: fc.constantFrom('p1', 'p2'),
  stage: fc.constantFrom(...JOB_STAGES),
  createdAt: fc.integer({ min: 0, max: 4 }).map((t) => T0 + t),
  requiredLabels: fc.array(arbLabel, { maxLength: 2 }),
});

const arbFilter: fc.Arbitrary<Filter> = fc.record(
  {
    productId: fc.constantFrom('p1', 'p2', 'p3'),
    stages: fc.subarray([...JOB_STAGES]),
    labelKey: fc.constantFrom('os', 'gpu', 'arch'),
    labelValue: fc.constantFrom('linux', 'arm', ''),
  },
  { requiredKeys: [] },
);

/** The reference: what listJobs must return, computed the obvious way. */
function expected(jobs: readonly JobRecord[], filter: Filter): string[] {
  return jobs
    .filter((j) => filter.productId === undefined || j.productId === filter.productId)
    .filter((j) => !filter.stages?.length || filter.stages.includes(j.stage))
    .filter(
      (j) =>
        (filter.labelKey === undefined && filter.labelValue === undefined) ||
        j.requiredLabels.some(
          (r) =>
            (filter.labelKey === undefined || r.key === filter.labelKey) &&
            (filter.labelValue === undefined || r.values.includes(filter.labelValue)),
        ),
    )
    .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((j) => j.id);
}

export function describePagingProperty(makeStore: MakeStore): void {
  describe('listJobs paging (property)', () => {
    it('walks every filtered job exactly once, in order, for any page size', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(arbJob, { selector: (j) => j.id, maxLength: 30 }),
          fc.array(fc.tuple(arbFilter, fc.integer({ min: 1, max: 7 })), { minLength: 1, maxLength: 4 }),
          async (drawn, queries) => {
            const { store, cleanup } = await makeStore();
            try {
              const jobs = drawn.map((d) => ({ ...submitted(d.id, d.createdAt).job, ...d }));
              for (const job of jobs) {
                await store.insertJob(job, { ...submitted(job.id, job.createdAt).event, productId: job.productId });
              }
              for (const [filter, limit] of queries) {
                const want = expected(jobs, filter);
                const seen: string[] = [];
                let after: JobCursor | undefined;
                for (let pages = 1; ; pages++) {
                  expect(pages).toBeLessThanOrEqual(Math.ceil(want.length / limit) + 1);
                  const page = await store.listJobs({ ...filter, limit, ...(after ? { after } : {}) });
                  expect(page.jobs.length).toBeLessThanOrEqual(limit);
                  seen.push(...page.jobs.map((j) => j.id));
                  if (!page.next) break;
                  after = page.next;
                }
                expect(seen).toEqual(want);
              }
            } finally {
              await cleanup();
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}

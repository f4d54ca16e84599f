/**
 * The behaviour every JobStore provider must share, as one suite each provider's test file runs
 * against its own factory. The coordinator and the simulation are written against the interface,
 * so any difference between providers found here would be a bug that shows up in only one setup.
 */
import { describe } from 'vitest';
import { describeConcurrency } from './conformance/concurrency.js';
import { describeEvents } from './conformance/events.js';
import { describeEchoOutbox } from './conformance/echo-outbox.js';
import { describeListing } from './conformance/listing.js';
import { describeLogs } from './conformance/logs.js';
import { describePagingProperty } from './conformance/paging-property.js';
import { describeRecords } from './conformance/records.js';
import { describeReplace } from './conformance/replace.js';
import { describeSpend } from './conformance/spend.js';
import type { MakeStore } from './conformance/harness.js';

export type { MakeStore, StoreHarness } from './conformance/harness.js';

export function describeJobStoreConformance(name: string, makeStore: MakeStore): void {
  describe(`JobStore conformance: ${name}`, () => {
    describeRecords(makeStore);
    describeReplace(makeStore);
    describeEvents(makeStore);
    describeListing(makeStore);
    describePagingProperty(makeStore);
    describeLogs(makeStore);
    describeSpend(makeStore);
    describeEchoOutbox(makeStore);
    describeConcurrency(makeStore);
  });
}

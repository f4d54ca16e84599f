/**
 * The Cosmos echo outbox, without transactional batch or change feed. Cosmos cannot write the echo
 * and the job document in one operation, so the echo is written FIRST, as an intent: an `echo`
 * document `echo:<job>:<revision>` in the product's partition (409: already there), then the job
 * document. A crash between the two leaves an intent for a change that never happened, never a
 * change without its echo. When a sender claims an intent it reads the job: if the job has reached
 * that revision, the change was committed and the echo carries the event as stored (a writer that
 * lost its compare-and-set may have written the intent, but the winner's event is what is sent);
 * if not, the intent waits, and after UNCOMMITTED_GRACE_MS it is voided.
 *
 * Claims and settlements are replaces with If-Match on the echo document's etag, so of two replicas
 * claiming one echo one wins (412 for the other), and routine double delivery does not happen.
 */
import type { Container, SqlQuerySpec } from '@azure/cosmos';
import type { JobEventRecord, JobRecord } from '../../domain/job.js';
import { echoFor, type EchoBacklog, type EchoDelivery, type EchoOutbox, type EchoSettlement } from '../echo-outbox.js';
import { statusOf } from './control.js';
import { docId, withoutSystemFields, type SystemFields } from './documents.js';

/** An intent whose job has not reached its revision after this long was never committed. */
const UNCOMMITTED_GRACE_MS = 60_000;
/** An intent not yet committed is looked at again after this long. */
const RECHECK_MS = 1_000;

export interface EchoDoc extends SystemFields {
  id: string;
  productId: string;
  type: 'echo';
  jobId: string;
  revision: number;
  /** 'void': the change it was written for was never committed. */
  echoState: 'pending' | 'delivered' | 'dead' | 'void';
  dueAt: number;
  createdAt: number;
  attempts: number;
  claim: string;
  lastError: string;
  intent: Omit<EchoDelivery, 'claim'>;
}

/** What the outbox needs from the job store it lives beside. */
export interface CosmosEchoDeps {
  container: Container;
  count<T extends { requestCharge?: number }>(operation: string, request: () => Promise<T>): Promise<T>;
  query<T>(operation: string, spec: SqlQuerySpec, limit: number, partitionKey?: string): Promise<T[]>;
  /** The stored job's revision and its event at `revision` (null: not found), or null with no job. */
  committed(jobId: string, productId: string, revision: number): Promise<{ revision: number; event: JobEventRecord | null } | null>;
}

export function echoDocId(jobId: string, revision: number): string {
  return `echo:${docId(jobId)}:${revision}`;
}

export class CosmosEchoOutbox implements EchoOutbox {
  constructor(private readonly deps: CosmosEchoDeps) {}

  /** Call before the write that stores `event`: records the echo it will owe, when the job is tracked. */
  async intend(job: JobRecord, event: JobEventRecord): Promise<void> {
    const echo = echoFor(job, event);
    if (!echo) return;
    const doc: EchoDoc = {
      id: echoDocId(echo.jobId, echo.revision),
      productId: echo.productId,
      type: 'echo',
      jobId: echo.jobId,
      revision: echo.revision,
      echoState: 'pending',
      dueAt: echo.createdAt,
      createdAt: echo.createdAt,
      attempts: 0,
      claim: '',
      lastError: '',
      intent: echo,
    };
    try {
      await this.deps.count('insert.echo', () => this.deps.container.items.create(doc));
    } catch (err) {
      if (statusOf(err) !== 409) throw err; // 409: this revision's echo is already owed (or sent)
    }
  }

  async claimDueEchoes(now: number, limit: number, claimUntil: number, claim: string): Promise<EchoDelivery[]> {
    const spec: SqlQuerySpec = {
      query: "SELECT * FROM c WHERE c.type = 'echo' AND c.echoState = 'pending' AND c.dueAt <= @now ORDER BY c.dueAt",
      parameters: [{ name: '@now', value: now }],
    };
    const claimed: EchoDelivery[] = [];
    for (const doc of await this.deps.query<EchoDoc>('query.dueEchoes', spec, limit)) {
      const stored = await this.deps.committed(doc.jobId, doc.productId, doc.revision);
      if (!stored || stored.revision < doc.revision) {
        const never = now - doc.createdAt > UNCOMMITTED_GRACE_MS;
        await this.#replace(doc, never ? { echoState: 'void', lastError: 'the job change it echoes was never committed' } : { dueAt: now + RECHECK_MS });
        continue;
      }
      if (!(await this.#replace(doc, { dueAt: claimUntil, claim }))) continue; // another replica claimed it
      claimed.push({ ...doc.intent, event: stored.event ?? doc.intent.event, attempts: doc.attempts, claim });
    }
    return claimed;
  }

  async settleEcho(delivery: EchoDelivery, settlement: EchoSettlement): Promise<boolean> {
    for (;;) {
      const res = await this.deps.count('read.echo', () => this.deps.container.item(echoDocId(delivery.jobId, delivery.revision), delivery.productId).read<EchoDoc>());
      const doc = res.resource;
      if (!doc || doc.echoState !== 'pending') return settlement.state === 'delivered';
      if (settlement.state !== 'delivered' && doc.claim !== delivery.claim) return false;
      const patch: Partial<EchoDoc> =
        settlement.state === 'delivered'
          ? { echoState: 'delivered', claim: '' }
          : settlement.state === 'retry'
            ? { dueAt: settlement.dueAt, attempts: doc.attempts + 1, lastError: settlement.error, claim: '' }
            : { echoState: 'dead', attempts: doc.attempts + 1, lastError: settlement.error, claim: '' };
      if (await this.#replace(doc, patch)) return true; // 412: it changed under us; decide again
    }
  }

  /** Reads the pending and dead entries' state and time (the test server has no GROUP BY). */
  async echoBacklog(): Promise<EchoBacklog> {
    const spec: SqlQuerySpec = { query: "SELECT c.echoState, c.createdAt FROM c WHERE c.type = 'echo' AND (c.echoState = 'pending' OR c.echoState = 'dead')", parameters: [] };
    const rows = await this.deps.query<{ echoState: string; createdAt: number }>('query.echoBacklog', spec, Number.MAX_SAFE_INTEGER);
    const pending = rows.filter((r) => r.echoState === 'pending');
    return { pending: pending.length, dead: rows.length - pending.length, oldestPendingAt: pending.length ? Math.min(...pending.map((r) => r.createdAt)) : null };
  }

  /** Replaces `doc` with `patch` applied if it is unchanged since read; false when it changed (412) or vanished. */
  async #replace(doc: EchoDoc, patch: Partial<EchoDoc>): Promise<boolean> {
    try {
      await this.deps.count('replace.echo', () =>
        this.deps.container.item(doc.id, doc.productId).replace({ ...withoutSystemFields(doc), ...patch }, { accessCondition: { type: 'IfMatch', condition: doc._etag ?? '' } }),
      );
      return true;
    } catch (err) {
      const status = statusOf(err);
      if (status === 412 || status === 404) return false;
      throw err;
    }
  }
}

/**
 * The partition tables (partition-table-store.ts) in the control container: `member:<replica>` and
 * `partition:<n>` documents, each its own logical partition like every control document, both read
 * by one query on `/type` (the only indexed path there), each written by create (409: someone made it
 * first) or replace with If-Match on the etag read (412: someone wrote since). About 70 small
 * documents for 64 partitions and a few replicas: one page, a few RU.
 */
import type { MemberRow, PartitionRow, PartitionTable, PartitionTableStore } from '../partition-table-store.js';
import { ControlStore, type ControlDoc, type Read } from './control.js';

interface MemberDoc extends ControlDoc {
  type: 'partitionMember';
  replica: string;
  expiresAt: number;
}

interface PartitionDoc extends ControlDoc, PartitionRow {
  type: 'partitionLease';
}

const memberDocId = (id: string): string => `member:${id}`;
const partitionDocId = (partition: number): string => `partition:${partition}`;

export class CosmosPartitionTable extends ControlStore implements PartitionTableStore {
  async readTable(): Promise<PartitionTable> {
    this.assertOpen();
    const docs = await this.docs.query<(MemberDoc | PartitionDoc) & { _etag: string }>({
      query: "SELECT * FROM c WHERE c.type = 'partitionMember' OR c.type = 'partitionLease'",
    });
    const table: PartitionTable = { members: [], partitions: [] };
    for (const doc of docs) {
      if (doc.type === 'partitionMember') table.members.push({ row: { id: doc.replica, expiresAt: doc.expiresAt }, etag: doc._etag });
      else table.partitions.push({ row: { partition: doc.partition, owner: doc.owner, epoch: doc.epoch }, etag: doc._etag });
    }
    return table;
  }

  putMember(row: MemberRow, previousEtag: string | null): Promise<boolean> {
    const id = memberDocId(row.id);
    return this.#put<MemberDoc>({ id, pk: id, type: 'partitionMember', replica: row.id, expiresAt: row.expiresAt }, previousEtag);
  }

  putPartition(row: PartitionRow, previousEtag: string | null): Promise<boolean> {
    const id = partitionDocId(row.partition);
    return this.#put<PartitionDoc>({ id, pk: id, type: 'partitionLease', ...row }, previousEtag);
  }

  removeMember(id: string): Promise<boolean> {
    this.assertOpen();
    return this.docs.remove(memberDocId(id));
  }

  async #put<D extends ControlDoc>(doc: D, previousEtag: string | null): Promise<boolean> {
    this.assertOpen();
    if (previousEtag === null) return this.docs.createIfAbsent(doc);
    const current: Read<D> = { doc, etag: previousEtag };
    return (await this.docs.replaceIfMatch(current, doc)) !== null;
  }
}

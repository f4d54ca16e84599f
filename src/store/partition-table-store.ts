/**
 * The two small tables coordinator replicas divide the work with (docs/scaling-out.md, "Dividing the
 * work"; the rules are domain/partitions.ts): a membership row per replica process, renewed while it
 * lives, and a lease row per partition naming its holder. Every write is a compare-and-set on the
 * version read (its etag), so of two replicas writing one row, one wins. Cosmos only: over SQLite one
 * coordinator owns everything and there is no table.
 */

/** A row as read, with the version a compare-and-set names. */
export interface Versioned<T> {
  row: T;
  etag: string;
}

/** A replica alive until `expiresAt` (its own clock, milliseconds) unless it renews. */
export interface MemberRow {
  id: string;
  expiresAt: number;
}

/**
 * Who holds a partition: `owner` '' when free. `epoch` is incremented on every change of owner, so it
 * names one holding (a fencing token: a holder that lost the row can tell from the epoch). The lease
 * lasts as long as its owner's membership row, so holding costs no write per partition.
 */
export interface PartitionRow {
  partition: number;
  owner: string;
  epoch: number;
}

export interface PartitionTable {
  members: Versioned<MemberRow>[];
  partitions: Versioned<PartitionRow>[];
}

export interface PartitionTableStore {
  /** Both tables, in one query. */
  readTable(): Promise<PartitionTable>;
  /**
   * Writes a membership row: a create when `previousEtag` is null, else a replace of that version.
   * False when another writer got there first (or the row went): read the table again.
   */
  putMember(row: MemberRow, previousEtag: string | null): Promise<boolean>;
  /** The same for a partition's lease row. */
  putPartition(row: PartitionRow, previousEtag: string | null): Promise<boolean>;
  /** Deletes a membership row (a replica long gone); false when there was none. */
  removeMember(id: string): Promise<boolean>;
}

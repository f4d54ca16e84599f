/**
 * The record of which bytes of a filesystem upload were acknowledged. A file's size after a crash
 * proves nothing: the size may have reached the disk while the data did not (zeros), or a chunk
 * may be half written. So every acknowledged chunk also appends a fixed-size record — its offset,
 * length and SHA-256, sealed by a check of the record itself — and recovery believes the data file
 * only as far as a chain of sound records whose last chunk still hashes right. Pure: bytes in,
 * decisions out; fs-blob-store.ts does the I/O.
 */
import { createHash } from 'node:crypto';

/** offset (8) + length (4) + chunk SHA-256 (32) + check (4). */
export const JOURNAL_RECORD_BYTES = 48;
const BODY_BYTES = 44;

export interface ChunkRecord {
  offset: number;
  length: number;
  sha256: Buffer;
}

export function chunkSha256(chunk: Uint8Array): Buffer {
  return createHash('sha256').update(chunk).digest();
}

export function encodeRecord(record: ChunkRecord): Buffer {
  const out = Buffer.alloc(JOURNAL_RECORD_BYTES);
  out.writeBigUInt64BE(BigInt(record.offset), 0);
  out.writeUInt32BE(record.length, 8);
  record.sha256.copy(out, 12);
  recordCheck(out.subarray(0, BODY_BYTES)).copy(out, BODY_BYTES);
  return out;
}

/**
 * The records that chain from offset 0, each starting where the one before ended, in journal
 * order. Reading stops at the first torn, zeroed or out-of-chain record: nothing after it was
 * acknowledged, since a chunk is acknowledged only after its record is durable and the next chunk
 * is written only after that.
 */
export function chainedRecords(journal: Buffer): ChunkRecord[] {
  const records: ChunkRecord[] = [];
  let next = 0;
  for (let at = 0; at + JOURNAL_RECORD_BYTES <= journal.length; at += JOURNAL_RECORD_BYTES) {
    const raw = journal.subarray(at, at + JOURNAL_RECORD_BYTES);
    if (!recordCheck(raw.subarray(0, BODY_BYTES)).equals(raw.subarray(BODY_BYTES))) break;
    const offset = Number(raw.readBigUInt64BE(0));
    const length = raw.readUInt32BE(8);
    if (offset !== next || length === 0) break;
    records.push({ offset, length, sha256: Buffer.from(raw.subarray(12, BODY_BYTES)) });
    next = offset + length;
  }
  return records;
}

/** Bytes covered by `records` (they chain from 0). */
export function coveredBytes(records: readonly ChunkRecord[]): number {
  const last = records.at(-1);
  return last === undefined ? 0 : last.offset + last.length;
}

function recordCheck(body: Uint8Array): Buffer {
  return createHash('sha256').update(body).digest().subarray(0, 4);
}

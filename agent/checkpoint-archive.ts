/**
 * A checkpoint travels as one tar archive (POSIX ustar) of GIGAFACTORY_CHECKPOINT_DIR: one upload
 * is one consistent snapshot, "the latest checkpoint" is one file, and a person who downloads it
 * reads it with any tar. Only what checkpoints need is written and read: regular files and
 * directories, sizes below 8 GiB, paths that fit ustar's 255 bytes. Unpacking refuses any entry
 * that would land outside the directory (absolute paths, ".." parts, links).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { walkDir } from './dir-walk.js';

const BLOCK = 512;
/** ustar's size field: 11 octal digits. */
export const MAX_ENTRY_BYTES = 8 ** 11 - 1;
const COPY_BYTES = 1024 * 1024;

/** A file or directory below the checkpoint dir, "/"-separated. */
export interface CheckpointEntry {
  name: string;
  type: 'file' | 'dir';
  size: number;
  mtimeMs: number;
}

/** The dir's entries, sorted by name; links, sockets and the like are left out. */
export async function listCheckpointEntries(dir: string): Promise<CheckpointEntry[]> {
  const out: CheckpointEntry[] = [];
  for await (const { name, entry } of walkDir(dir)) {
    if (entry.isDirectory()) {
      out.push({ name, type: 'dir', size: 0, mtimeMs: 0 });
    } else if (entry.isFile()) {
      const handle = await open(path.join(dir, name), 'r');
      try {
        const stat = await handle.stat();
        out.push({ name, type: 'file', size: stat.size, mtimeMs: stat.mtimeMs });
      } finally {
        await handle.close();
      }
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Writes the entries of `dir` to `archive`. A file that changes size while it is read makes the
 * whole pack fail (the next try takes a consistent copy), so an archive never holds a torn file
 * whose header disagrees with its bytes.
 */
export async function packCheckpoint(dir: string, entries: readonly CheckpointEntry[], archive: string): Promise<void> {
  const out = createWriteStream(archive, { mode: 0o600 });
  const write = (bytes: Uint8Array): Promise<void> => (out.write(bytes) ? Promise.resolve() : new Promise((resolve) => out.once('drain', () => resolve())));
  try {
    for (const entry of entries) {
      if (entry.type === 'dir') {
        await write(header(entry.name, 'dir', 0));
        continue;
      }
      const handle = await open(path.join(dir, ...entry.name.split('/')), 'r');
      try {
        const { size } = await handle.stat();
        if (size > MAX_ENTRY_BYTES) throw new Error(`checkpoint file "${entry.name}" is ${size} bytes; at most ${MAX_ENTRY_BYTES}`);
        await write(header(entry.name, 'file', size));
        await copyExactly(handle, size, entry.name, write);
        if (size % BLOCK) await write(new Uint8Array(BLOCK - (size % BLOCK)));
      } finally {
        await handle.close();
      }
    }
    await write(new Uint8Array(BLOCK * 2));
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  } catch (err) {
    out.destroy();
    throw err;
  }
}

async function copyExactly(handle: FileHandle, size: number, name: string, write: (bytes: Uint8Array) => Promise<void>): Promise<void> {
  let at = 0;
  while (at < size) {
    const buffer = Buffer.alloc(Math.min(COPY_BYTES, size - at));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
    if (bytesRead === 0) throw new Error(`checkpoint file "${name}" shrank while it was packed`);
    await write(buffer.subarray(0, bytesRead));
    at += bytesRead;
  }
}

/** Extracts `archive` into `dir`; returns the number of files. Rejects on a malformed or escaping entry. */
export async function unpackCheckpoint(archive: string, dir: string): Promise<number> {
  const root = path.resolve(dir);
  await mkdir(root, { recursive: true });
  const handle = await open(archive, 'r');
  let files = 0;
  try {
    const { size: total } = await handle.stat();
    let at = 0;
    while (at + BLOCK <= total) {
      const block = Buffer.alloc(BLOCK);
      await handle.read(block, 0, BLOCK, at);
      at += BLOCK;
      if (block.every((b) => b === 0)) return files;
      const entry = parseHeader(block);
      const dest = insideOf(root, entry.name);
      if (entry.type === 'dir') {
        await mkdir(dest, { recursive: true });
      } else if (entry.type === 'file') {
        if (at + entry.size > total) throw new Error(`checkpoint archive ends inside "${entry.name}"`);
        await mkdir(path.dirname(dest), { recursive: true });
        const out = await open(dest, 'w', 0o600);
        try {
          for (let done = 0; done < entry.size; ) {
            const chunk = Buffer.alloc(Math.min(COPY_BYTES, entry.size - done));
            await handle.read(chunk, 0, chunk.length, at + done);
            await out.write(chunk);
            done += chunk.length;
          }
        } finally {
          await out.close();
        }
        files++;
      } else {
        throw new Error(`checkpoint archive entry "${entry.name}" is not a file or directory (links are not restored)`);
      }
      at += Math.ceil(entry.size / BLOCK) * BLOCK;
    }
    throw new Error('checkpoint archive has no end marker (truncated)');
  } finally {
    await handle.close();
  }
}

function insideOf(root: string, name: string): string {
  const parts = name.split('/').filter((p) => p !== '');
  if (name.startsWith('/') || name.includes('\\') || parts.some((p) => p === '..' || p === '.') || parts.length === 0) {
    throw new Error(`checkpoint archive entry "${name.slice(0, 80)}" would land outside the checkpoint dir`);
  }
  return path.join(root, ...parts);
}

function header(name: string, type: 'file' | 'dir', size: number): Uint8Array {
  const block = Buffer.alloc(BLOCK);
  const [prefix, base] = splitName(type === 'dir' ? `${name}/` : name);
  block.write(base, 0, 100, 'utf8');
  block.write(octal(type === 'dir' ? 0o755 : 0o644, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(0, 12), 136, 'ascii');
  block.write(' '.repeat(8), 148, 'ascii');
  block.write(type === 'dir' ? '5' : '0', 156, 'ascii');
  block.write('ustar\u000000', 257, 'ascii');
  block.write(prefix, 345, 155, 'utf8');
  const sum = block.reduce((n, b) => n + b, 0);
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
  return block;
}

/** ustar keeps up to 100 bytes of name and 155 of prefix, split at a "/". */
function splitName(name: string): [string, string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const base = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100 && base !== '') return [prefix, base];
  }
  throw new Error(`checkpoint path "${name.slice(0, 80)}" is too long for the archive (at most 100 bytes per name, 255 in all)`);
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\u0000`;
}

function parseHeader(block: Buffer): { name: string; type: 'file' | 'dir' | 'other'; size: number } {
  const field = (at: number, length: number): string => {
    const raw = block.subarray(at, at + length);
    const end = raw.indexOf(0);
    return raw.subarray(0, end < 0 ? length : end).toString('utf8');
  };
  const stored = parseInt(field(148, 8).trim(), 8);
  const copy = Buffer.from(block);
  copy.fill(0x20, 148, 156);
  if (stored !== copy.reduce((n, b) => n + b, 0)) throw new Error('checkpoint archive has a corrupt header (checksum mismatch)');
  const prefix = field(345, 155);
  const name = (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100)).replace(/\/$/, '');
  const size = parseInt(field(124, 12).trim() || '0', 8);
  const flag = String.fromCharCode(block[156]!);
  const type = flag === '5' ? 'dir' : flag === '0' || flag === '\u0000' ? 'file' : 'other';
  return { name, type, size: type === 'dir' ? 0 : size };
}

/**
 * Walks a job's directory (its artifacts or its checkpoint), depth first: each entry with its
 * "/"-separated name relative to the root. A root that does not exist (the job wrote nothing) is an
 * empty walk.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export interface WalkedEntry {
  /** Relative to the root, "/"-separated. */
  name: string;
  entry: Dirent;
}

export async function* walkDir(root: string, sub = ''): AsyncGenerator<WalkedEntry> {
  let entries: Dirent[];
  try {
    entries = await readdir(path.join(root, sub), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const entry of entries) {
    const name = sub ? `${sub}/${entry.name}` : entry.name;
    yield { name, entry };
    if (entry.isDirectory()) yield* walkDir(root, name);
  }
}

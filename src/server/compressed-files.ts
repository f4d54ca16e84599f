/**
 * Compressed copies of the web app's files, made on first request and kept in memory (the build
 * is a few hundred KB; a changed file — another mtime or size — is compressed again). Brotli at
 * quality 11 and gzip at level 9: each file is compressed once per process, so the slow, small
 * settings pay off on every later request.
 */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

export type Encoding = 'br' | 'gzip';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Files smaller than this are sent as they are: the headers would cost more than the saving. */
export const MIN_COMPRESSED_BYTES = 1024;
/** Distinct files kept; the app has a handful, so this only bounds a misbehaving dist/web. */
const MAX_ENTRIES = 256;

const COMPRESSIBLE = /^(text\/|application\/json|image\/svg\+xml)/;

export function isCompressible(contentType: string, size: number): boolean {
  return size >= MIN_COMPRESSED_BYTES && COMPRESSIBLE.test(contentType);
}

/**
 * The encoding to send for an Accept-Encoding header: brotli, then gzip, each unless refused with
 * q=0; null when the client takes neither (identity).
 */
export function negotiateEncoding(acceptEncoding: string | undefined): Encoding | null {
  if (!acceptEncoding) return null;
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const weight = (name: Encoding): number => accepted.get(name) ?? (accepted.has('*') ? accepted.get('*')! : 0);
  if (weight('br') > 0) return 'br';
  if (weight('gzip') > 0) return 'gzip';
  return null;
}

interface Entry {
  version: string;
  variants: Map<Encoding, Promise<Buffer>>;
}

export class CompressedFiles {
  private readonly entries = new Map<string, Entry>();

  /** The file compressed with `encoding`, as of the version (mtime and size) the caller stat-ed. */
  get(file: string, mtimeMs: number, size: number, encoding: Encoding): Promise<Buffer> {
    const version = `${mtimeMs}:${size}`;
    let entry = this.entries.get(file);
    if (!entry || entry.version !== version) {
      if (!entry && this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      entry = { version, variants: new Map() };
      this.entries.set(file, entry);
    }
    let variant = entry.variants.get(encoding);
    if (!variant) {
      variant = readFile(file).then((data) =>
        encoding === 'br'
          ? brotli(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } })
          : gzipAsync(data, { level: 9 }),
      );
      // A failed read is not remembered: the next request tries again.
      variant.catch(() => entry!.variants.delete(encoding));
      entry.variants.set(encoding, variant);
    }
    return variant;
  }
}

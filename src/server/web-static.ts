/**
 * The browser control plane's files (the Vite build in dist/web) on the HTTP listener at `/`.
 * GET and HEAD only; RPC procedures, /metrics, /healthz and /readyz are never answered here. A path
 * naming a file serves it; any other path without a file extension gets index.html (the app routes
 * in the browser), so /jobs/job_01... can be reloaded or bookmarked.
 *
 * Text files are sent brotli- or gzip-compressed when the request's Accept-Encoding allows
 * (compressed-files.ts), with `Vary: Accept-Encoding` so caches keep the variants apart. Caching:
 * files under /assets/ carry a content hash in their name and are immutable for a year;
 * index.html (and every app path) is `no-cache`, so a new build is picked up on the next load.
 */
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import type { HttpRoute } from './health.js';
import { CompressedFiles, isCompressible, negotiateEncoding } from './compressed-files.js';

/** Where `npm run build:web` (and `npm start`, and the tests) put the build. */
export const WEB_DIST_DIR = join(import.meta.dirname, '..', '..', 'dist', 'web');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The app runs only its own files and talks only to its own origin (Connect-Web calls the gateway
 * it was served by); nothing may frame it. A stray injected script or style has nowhere to run.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** "/package.Service/Method": a Connect, gRPC-Web or gRPC procedure path. */
const PROCEDURE_PATH = /^\/[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+\/[A-Za-z_]\w*$/;
const RESERVED = new Set(['/metrics', '/healthz', '/readyz']);

export function webRoutes(dir: string = WEB_DIST_DIR): HttpRoute {
  const compressed = new CompressedFiles();
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return false;
    }
    if (RESERVED.has(path) || PROCEDURE_PATH.test(path) || path.includes('\0')) return false;
    void serve(dir, path, req, res, compressed).catch((err: unknown) => {
      if (!res.headersSent) send(res, req, 500, 'text/plain; charset=utf-8', `could not read the web app: ${String(err)}\n`);
      else res.destroy();
    });
    return true;
  };
}

async function serve(dir: string, path: string, req: IncomingMessage, res: ServerResponse, compressed: CompressedFiles): Promise<void> {
  const file = normalize(join(dir, path));
  if (file !== dir && !file.startsWith(dir + sep)) return send(res, req, 404, 'text/plain; charset=utf-8', 'not found\n');
  const found = await fileStats(file);
  if (found) return stream(res, req, file, found, path.startsWith('/assets/'), compressed);
  // A missing asset is a 404; every other path is a page of the app.
  if (extname(path)) return send(res, req, 404, 'text/plain; charset=utf-8', 'not found\n');
  const index = join(dir, 'index.html');
  const indexStats = await fileStats(index);
  if (!indexStats) return send(res, req, 503, 'text/html; charset=utf-8', NOT_BUILT);
  return stream(res, req, index, indexStats, false, compressed);
}

async function fileStats(file: string): Promise<Stats | null> {
  try {
    const stats = await stat(file);
    return stats.isFile() ? stats : null;
  } catch {
    return null;
  }
}

async function stream(res: ServerResponse, req: IncomingMessage, file: string, stats: Stats, immutable: boolean, compressed: CompressedFiles): Promise<void> {
  const contentType = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  const compressible = isCompressible(contentType, stats.size);
  const encoding = compressible ? negotiateEncoding(req.headers['accept-encoding']) : null;
  const body = encoding ? await compressed.get(file, stats.mtimeMs, stats.size, encoding) : null;
  res.writeHead(200, {
    'Content-Type': contentType,
    'Content-Length': body ? body.length : stats.size,
    ...(encoding ? { 'Content-Encoding': encoding } : {}),
    // The answer depends on Accept-Encoding for every file that could be compressed.
    ...(compressible ? { Vary: 'Accept-Encoding' } : {}),
    // Files under /assets/ carry a content hash in their name; index.html must always be fresh.
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'Referrer-Policy': 'no-referrer',
  });
  if (req.method === 'HEAD') return void res.end();
  if (body) return void res.end(body);
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

function send(res: ServerResponse, req: IncomingMessage, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Gigafactory</title>
<p style="font:16px system-ui,sans-serif;margin:3rem">The web control plane has not been built.
Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it) and reload.</p>\n`;

/**
 * GET (and HEAD) /artifacts/<job>/<epoch>/<name> on the HTTP listener: one stored file as a plain
 * download, so browsers and `curl -O` work. Authenticated as JobService.DownloadArtifact is (the
 * same bearer token, the same role), with the file's Content-Type, a Content-Disposition naming it,
 * and single byte ranges (206, or 416 past the end). Epoch 0 or "latest" means the latest attempt
 * that has the file; `?kind=checkpoint` downloads a checkpoint.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Artifacts } from '../coordinator/artifacts.js';
import { DomainError } from '../domain/errors.js';
import type { Logger } from '../logging.js';
import type { Authenticate } from './auth.js';
import type { HttpRoute } from './health.js';
import { toConnectError } from './errors.js';

export const ARTIFACTS_PATH = '/artifacts/';
const PROCEDURE = 'gigafactory.fleet.v1.JobService/DownloadArtifact';

const HTTP_STATUS: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.OutOfRange]: 416,
  [Code.ResourceExhausted]: 429,
  [Code.Unavailable]: 503,
};

/** The path as (job, epoch, name), or a message saying what is wrong with it. */
export function parseArtifactPath(path: string): { jobId: string; epoch: number; name: string } | string {
  const parts = path.slice(ARTIFACTS_PATH.length).split('/');
  if (parts.length < 3 || parts.some((p) => p === '')) return `the path must be ${ARTIFACTS_PATH}<job>/<epoch>/<name>`;
  let decoded: string[];
  try {
    decoded = parts.map((p) => decodeURIComponent(p));
  } catch {
    return 'the path is not valid percent-encoding';
  }
  const [jobId, epochText, ...name] = decoded as [string, string, ...string[]];
  const epoch = epochText === 'latest' ? 0 : /^\d{1,15}$/.test(epochText) ? Number(epochText) : NaN;
  if (Number.isNaN(epoch)) return `epoch "${epochText.slice(0, 20)}" must be a number or "latest"`;
  return { jobId, epoch, name: name.join('/') };
}

/** A single "bytes=" range over `size` bytes: [start, end] inclusive, null for no Range header, "unsatisfiable" past the end. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // A multi-range or malformed header is ignored, as RFC 9110 allows: the whole file is sent.
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** `attachment; filename="x"; filename*=UTF-8''x` for the last part of the name. */
function disposition(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const ascii = base.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(base)}`;
}

export function artifactRoute(artifacts: Artifacts, authenticate: Authenticate, log: Logger): HttpRoute {
  const fail = (res: ServerResponse, err: unknown): void => {
    const connectErr = err instanceof ConnectError ? err : toConnectError(err, log, PROCEDURE);
    if (res.headersSent) return void res.destroy();
    const body = `${connectErr.rawMessage}\n`;
    res.writeHead(HTTP_STATUS[connectErr.code] ?? 500, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> => {
    const header = req.headers.authorization;
    await authenticate({ procedure: PROCEDURE, authorization: typeof header === 'string' ? header : null, peer: req.socket.remoteAddress }, log);
    const where = parseArtifactPath(path);
    if (typeof where === 'string') throw new DomainError('invalid_argument', where);
    const kindText = query.get('kind') ?? 'artifact';
    if (kindText !== 'artifact' && kindText !== 'checkpoint') throw new DomainError('invalid_argument', `kind must be "artifact" or "checkpoint", not "${kindText.slice(0, 20)}"`);
    const key = { ...where, kind: kindText } as const;
    // Metadata first (no bytes opened) to resolve the range against the size.
    const head = await artifacts.open(key, 0, 1);
    head.bytes.destroy();
    const { artifact } = head;
    const range = parseRange(req.headers.range, artifact.sizeBytes);
    const common = {
      'content-type': artifact.contentType,
      'content-disposition': disposition(artifact.name),
      'accept-ranges': 'bytes',
      etag: `"${artifact.sha256}"`,
      'x-content-type-options': 'nosniff',
    };
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...common, 'content-range': `bytes */${artifact.sizeBytes}`, 'content-length': 0 });
      return void res.end();
    }
    const start = range?.start ?? 0;
    const length = range ? range.end - range.start + 1 : artifact.sizeBytes;
    const headers = { ...common, 'content-length': length, ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${artifact.sizeBytes}` } : {}) };
    if (req.method === 'HEAD' || length === 0) {
      res.writeHead(range ? 206 : 200, headers);
      return void res.end();
    }
    const opened = await artifacts.open({ ...key, epoch: artifact.epoch }, start, length);
    res.writeHead(range ? 206 : 200, headers);
    opened.bytes.on('error', (err) => {
      log.warn({ err, jobId: artifact.jobId, name: artifact.name }, 'artifact download broke');
      res.destroy();
    });
    res.on('close', () => opened.bytes.destroy());
    opened.bytes.pipe(res);
  };

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (!url.pathname.startsWith(ARTIFACTS_PATH)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 });
      res.end();
      return true;
    }
    serve(req, res, url.pathname, url.searchParams).catch((err: unknown) => fail(res, err));
    return true;
  };
}

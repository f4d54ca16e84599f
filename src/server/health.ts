/**
 * Plain HTTP endpoints beside the RPC routes on the HTTP listener: /healthz (the process answers),
 * /readyz (store reachable, disk not full, listeners up, not shutting down) and /metrics (Prometheus
 * text format).
 */
import { statfs } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JobStore } from '../store/job-store.js';
import type { CoordinatorMetrics } from './metrics.js';

export interface HealthState {
  listening: boolean;
  shuttingDown: boolean;
  /** The embedded store's directory and the free space below which it cannot be trusted to write. */
  disk?: { dir: string; minFreeBytes: number };
}

/** How long the readiness probe waits for the store. */
const STORE_PROBE_TIMEOUT_MS = 2_000;

/** Returns true when it answered the request. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

export function healthRoutes(store: JobStore, metrics: CoordinatorMetrics, state: HealthState): HttpRoute {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    switch (path) {
      case '/healthz':
        reply(res, 200, 'text/plain', 'ok\n');
        return true;
      case '/readyz':
        void readiness(store, state).then((problems) =>
          reply(res, problems.length ? 503 : 200, 'application/json', JSON.stringify({ ready: problems.length === 0, problems }) + '\n'),
        );
        return true;
      case '/metrics':
        metrics.registry.metrics().then(
          (text) => reply(res, 200, metrics.registry.contentType, text),
          (err: unknown) => reply(res, 500, 'text/plain', `metrics failed: ${String(err)}\n`),
        );
        return true;
      default:
        return false;
    }
  };
}

async function readiness(store: JobStore, state: HealthState): Promise<string[]> {
  const problems: string[] = [];
  if (state.shuttingDown) problems.push('shutting down');
  if (!state.listening) problems.push('listeners not up');
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      store.getJob('readyz-probe'),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${STORE_PROBE_TIMEOUT_MS} ms`)), STORE_PROBE_TIMEOUT_MS))),
    ]);
  } catch (err) {
    problems.push(`store unreachable: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
  if (state.disk) {
    // A write that cannot land would fail every submit: not ready until there is room again.
    const { bavail, bsize } = await statfs(state.disk.dir);
    const free = bavail * bsize;
    if (free < state.disk.minFreeBytes) problems.push(`disk nearly full: ${mib(free)} MiB free in ${state.disk.dir}, below ${mib(state.disk.minFreeBytes)} MiB`);
  }
  return problems;
}

const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(0);

function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(body);
}

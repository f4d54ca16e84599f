/**
 * Where a process's CPU went, from a V8 CPU profile: every sample's time is charged to one category,
 * chosen by the innermost frame on its stack whose source says whose work it is. A native frame
 * (JSON.parse, a SQLite statement, a syscall) has no source, so it is charged to the JavaScript that
 * called it: JSON.stringify under the store's row code is store work, not "native".
 *
 * The categories answer "what would have to get cheaper": the store, the transport (grpc-js, HTTP/2,
 * sockets), protobuf, the lease protocol, dispatch and scheduling, the API layer, metrics, logging,
 * garbage collection. The rules are ordered; the first that matches a frame's URL wins.
 */
import type { Profiler } from 'node:inspector';

export type CpuCategory =
  | 'store (SQLite, rows, group commit)'
  | 'protobuf encode/decode'
  | 'transport (grpc-js, HTTP/2, sockets)'
  | 'lease protocol (sessions, lease book, lanes)'
  | 'dispatch and scheduling'
  | 'API handlers and admission'
  | 'metrics (prom-client)'
  | 'logging (pino)'
  | 'coordinator and domain, other'
  | 'Node runtime (promises, timers, events)'
  | 'garbage collection'
  | 'V8 and native, unattributed';

/** URL patterns, most specific first. Paths are matched on the URL with `/` separators. */
const RULES: readonly (readonly [RegExp, CpuCategory])[] = [
  [/\/src\/store\/|\/node_modules\/better-sqlite3\//, 'store (SQLite, rows, group commit)'],
  [/\/node_modules\/@bufbuild\/protobuf\/|\/node_modules\/@connectrpc\/connect\/dist\/esm\/protocol\/serialization/, 'protobuf encode/decode'],
  [/\/node_modules\/@grpc\/grpc-js\/|^node:internal\/http2|^node:net$|^node:internal\/stream_base_commons|^node:internal\/streams\/|^node:stream/, 'transport (grpc-js, HTTP/2, sockets)'],
  [/\/src\/domain\/lease-book|\/src\/coordinator\/(leases|sessions|factory-link|factory-streams)\.|\/src\/api\/(factory-session|factory-service|message-lanes|outbox|end-call)\./, 'lease protocol (sessions, lease book, lanes)'],
  [/\/src\/domain\/scheduler|\/src\/coordinator\/(dispatcher|scheduling|fleet)\./, 'dispatch and scheduling'],
  [/\/src\/api\/|\/src\/server\/(?!metrics)|\/node_modules\/@connectrpc\//, 'API handlers and admission'],
  [/\/node_modules\/prom-client\/|\/src\/server\/metrics/, 'metrics (prom-client)'],
  [/\/node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream)\/|\/src\/logging/, 'logging (pino)'],
  [/\/src\//, 'coordinator and domain, other'],
];

/**
 * The category a frame's own source claims, or null when it claims none: a native frame, or Node's
 * own JavaScript outside the transport (promises, timers, events, TextEncoder), which works for its
 * caller.
 */
function categoryOf(url: string): CpuCategory | null {
  if (!url) return null;
  for (const [pattern, category] of RULES) if (pattern.test(url)) return category;
  return null;
}

export interface CpuBreakdown {
  /** Milliseconds of samples that were not idle. */
  busyMs: number;
  /** Milliseconds the thread was idle (waiting for I/O). */
  idleMs: number;
  /** Busy milliseconds per category, largest first. */
  categories: { category: CpuCategory; ms: number }[];
}

/** Charges each sample of `profile` to a category (see the file comment). */
export function cpuBreakdown(profile: Profiler.Profile): CpuBreakdown {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  // Per node: the category of the innermost frame on its stack that claims one (undefined: none does),
  // and whether Node's own JavaScript is on that stack (then unclaimed time is the runtime's).
  const claimed = new Map<number, { category: CpuCategory | 'idle' | undefined; inNode: boolean }>();
  const resolve = (id: number): { category: CpuCategory | 'idle' | undefined; inNode: boolean } => {
    const known = claimed.get(id);
    if (known) return known;
    const node = byId.get(id)!;
    const { functionName: name, url } = node.callFrame;
    let result: { category: CpuCategory | 'idle' | undefined; inNode: boolean };
    if (name === '(idle)') result = { category: 'idle', inNode: false };
    else if (name === '(garbage collector)') result = { category: 'garbage collection', inNode: false };
    else if (name === '(program)' || name === '(root)') result = { category: undefined, inNode: false };
    else {
      const own = categoryOf(url);
      const parent = parentOf.get(id);
      const above = parent === undefined ? { category: undefined, inNode: false } : resolve(parent);
      result = { category: own ?? above.category, inNode: above.inNode || url.startsWith('node:') };
    }
    claimed.set(id, result);
    return result;
  };
  const categoryOfSample = (id: number): CpuCategory | 'idle' => {
    const { category, inNode } = resolve(id);
    return category ?? (inNode ? 'Node runtime (promises, timers, events)' : 'V8 and native, unattributed');
  };
  const totals = new Map<CpuCategory, number>();
  let idleUs = 0;
  const deltas = profile.timeDeltas ?? [];
  (profile.samples ?? []).forEach((id, i) => {
    // V8 stores the time since the previous sample with each sample: charge it to this one.
    const us = deltas[i] ?? 0;
    const category = categoryOfSample(id);
    if (category === 'idle') idleUs += us;
    else totals.set(category, (totals.get(category) ?? 0) + us);
  });
  const categories = [...totals].map(([category, us]) => ({ category, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
  return { busyMs: categories.reduce((sum, c) => sum + c.ms, 0), idleMs: idleUs / 1000, categories };
}

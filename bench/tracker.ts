/**
 * Tracker ingest and echo throughput: `node --import tsx bench/tracker.ts [items]` (default 2,000).
 * A real coordinator (startServer, SQLite in a temp dir, synchronous = FULL) with the echo pointed at
 * a real loopback HTTP receiver; items go in through TrackerService.IngestItems (batches of 500, as
 * `gigafactory ingest` sends 100), once to create and once more unchanged. Prints items/s for each
 * pass and how long until the receiver had every "submitted" echo (each one signed, POSTed, settled).
 * Figures are printed, never asserted. No factory runs, so each job has one event (plus a "waiting"
 * note when the dispatcher finds no factory, echoed too).
 */
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrackerService } from '../gen/ts/gigafactory/fleet/v1/tracker_service_pb.js';
import { ServeConfigSchema } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { startServer } from '../src/server/app.js';
import { startWebhookReceiver } from '../test/support/webhook-receiver.js';

const ITEMS = Number(process.argv[2] ?? 2_000);
const BATCH = 500;
const SECRET = 'bench-secret-0123456789';

const dataDir = mkdtempSync(join(tmpdir(), 'gigafactory-bench-tracker-'));
const hook = await startWebhookReceiver({ secret: SECRET });
const config = ServeConfigSchema.parse({ dataDir, grpcPort: 0, httpPort: 0, logLevel: 'silent', insecureDev: true, trackerEchoUrl: hook.url, trackerEchoSecret: SECRET });
const server = await startServer({ config, log: createLogger({ level: 'silent', pretty: false }) });
const tracker = createClient(TrackerService, createGrpcTransport({ baseUrl: `http://${server.grpc.address}` }));
const items = Array.from({ length: ITEMS }, (_, i) => ({
  externalId: `BENCH-${i}`,
  title: `Item ${i}`,
  productId: 'bench',
  labels: { team: `t${i % 7}` },
  commandTemplate: ['./run.sh', '{{external_id}}', '{{labels.team}}'],
  url: `https://tracker.example/BENCH-${i}`,
}));

async function ingestAll(): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < ITEMS; i += BATCH) await tracker.ingestItems({ items: items.slice(i, i + BATCH) });
  return (performance.now() - started) / 1000;
}

const start = performance.now();
const create = await ingestAll();
const unchanged = await ingestAll();
const submitted = () => [...hook.byEventId().values()].filter((p) => p.kind === 'submitted').length;
while (submitted() < ITEMS) await new Promise((resolve) => setTimeout(resolve, 20));
const echoed = (performance.now() - start) / 1000;

const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en')}/s`;
console.log(`items                          ${ITEMS}`);
console.log(`ingest, create (batches ${BATCH})    ${create.toFixed(2)} s  ${rate(ITEMS, create)}`);
console.log(`ingest, unchanged              ${unchanged.toFixed(2)} s  ${rate(ITEMS, unchanged)}`);
console.log(`every "submitted" echo in      ${echoed.toFixed(2)} s from the first ingest (${hook.accepted.length} echoes received, ${rate(hook.accepted.length, echoed)}; all signed: ${hook.accepted.every((r) => r.signed)})`);

await server.close();
await hook.close();
rmSync(dataDir, { recursive: true, force: true });

/**
 * A real HTTP receiver for tracker echoes on 127.0.0.1: records every POST with its headers, raw
 * body and whether its signature verifies, and answers 500 to the first `failFirst` requests (a
 * tracker having a bad minute). Receivers deduplicate by event id, as the README tells them to.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, verifyEchoSignature } from '../../src/coordinator/echo-signature.js';
import type { EchoPayload } from '../../src/domain/echo-payload.js';

export interface ReceivedEcho {
  eventId: string;
  payload: EchoPayload;
  signed: boolean;
  headers: Record<string, string | string[] | undefined>;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  /** Every request answered 2xx, in arrival order (duplicates included). */
  accepted: ReceivedEcho[];
  /** Requests answered with an error. */
  refused: number;
  /** Accepted payloads by event id: the receiver's deduplication. */
  byEventId(): Map<string, EchoPayload>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(opts: { secret: string; port?: number; failFirst?: number }): Promise<WebhookReceiver> {
  let toFail = opts.failFirst ?? 0;
  let refused = 0;
  const accepted: ReceivedEcho[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (toFail > 0) {
        toFail--;
        refused++;
        res.writeHead(500).end('not now');
        return;
      }
      const body = Buffer.concat(chunks);
      const signature = String(req.headers[SIGNATURE_HEADER] ?? '');
      accepted.push({
        eventId: String(req.headers[EVENT_ID_HEADER] ?? ''),
        payload: JSON.parse(body.toString('utf8')) as EchoPayload,
        signed: verifyEchoSignature(opts.secret, body, signature),
        headers: req.headers,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    accepted,
    get refused() {
      return refused;
    },
    byEventId: () => new Map(accepted.map((r) => [r.eventId, r.payload])),
    url: `http://127.0.0.1:${port}/hooks/gigafactory`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback port nothing listens on (yet): bound, then released. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

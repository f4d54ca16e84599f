/**
 * The two listeners, one router: h2c for native gRPC (agents, polyglot clients) and HTTP/1.1 for the
 * Connect gateway (Connect JSON, gRPC-Web, browsers, curl). Node's h2c server cannot also speak
 * HTTP/1.1, hence two ports.
 *
 * Both can serve TLS from the configured certificate; the native listener can also require client
 * certificates (mTLS). A connection that opens no request within the unauthenticated deadline (or
 * does not finish its TLS handshake by then) is closed, so idle sockets cannot pile up.
 */
import { cors as connectCors } from '@connectrpc/connect';
import type { connectNodeAdapter } from '@connectrpc/connect-node';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TlsFiles } from './security-setup.js';

/** The request handler connect-node builds (its type is not exported by name). */
export type NodeHandlerFn = ReturnType<typeof connectNodeAdapter>;

export interface Listener {
  /** The bound "host:port" (the port is real even when 0 was asked for). */
  address: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what remains. */
  close(graceMs: number): Promise<void>;
}

export interface ListenOptions {
  /** Serve TLS; with `clientCa`, the native listener requires a client certificate signed by it. */
  tls?: TlsFiles | null;
  /** Close connections that open no request (or finish no TLS handshake) within this many ms. */
  unauthenticatedDeadlineMs?: number;
}

export async function listenGrpc(handler: NodeHandlerFn, host: string, port: number, opts: ListenOptions = {}): Promise<Listener> {
  const { tls, unauthenticatedDeadlineMs: deadline } = opts;
  const server: http2.Http2Server | http2.Http2SecureServer = tls
    ? http2.createSecureServer(
        {
          cert: tls.cert,
          key: tls.key,
          ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
          ...(deadline ? { handshakeTimeout: deadline } : {}),
        },
        handler,
      )
    : http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    if (deadline) {
      // No stream yet means no credential yet: a silent connection is dropped at the deadline.
      const timer = setTimeout(() => session.destroy(), deadline);
      timer.unref();
      const clear = (): void => clearTimeout(timer);
      session.once('stream', clear);
      session.once('close', clear);
    }
  });
  // Sockets too: a session can be gone while its socket still holds server.close() open.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const bound = await listen(server, host, port);
  return {
    ...bound,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // GOAWAY: no new streams on existing connections; open ones may finish.
      for (const session of sessions) session.close();
      await raceTimeout(closed, graceMs);
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

export async function listenHttp(
  handler: NodeHandlerFn,
  host: string,
  port: number,
  corsOrigins: readonly string[],
  /** Plain HTTP routes tried before the RPC router; each returns true when it answered. */
  routes: readonly ((req: http.IncomingMessage, res: http.ServerResponse) => boolean)[] = [],
  opts: ListenOptions = {},
): Promise<Listener> {
  const allowed = new Set(corsOrigins);
  const { tls, unauthenticatedDeadlineMs: deadline } = opts;
  // headersTimeout is checked every connectionsCheckingInterval, so check often enough to honour it.
  const timeouts: http.ServerOptions = deadline
    ? { headersTimeout: deadline, requestTimeout: Math.max(300_000, deadline), connectionsCheckingInterval: Math.min(1_000, deadline) }
    : {};
  const listener: http.RequestListener = (req, res) => {
    if (routes.some((route) => route(req, res))) return;
    const origin = req.headers.origin;
    if (origin && (allowed.has(origin) || allowed.has('*'))) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', connectCors.exposedHeaders.join(', '));
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Methods': connectCors.allowedMethods.join(', '),
          'Access-Control-Allow-Headers': [...connectCors.allowedHeaders, 'Authorization'].join(', '),
          'Access-Control-Max-Age': '7200',
        });
        res.end();
        return;
      }
    }
    handler(req, res);
  };
  const server: http.Server | https.Server = tls
    ? https.createServer({ cert: tls.cert, key: tls.key, ...timeouts, ...(deadline ? { handshakeTimeout: deadline } : {}) }, listener)
    : http.createServer(timeouts, listener);
  const bound = await listen(server, host, port);
  return {
    ...bound,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await raceTimeout(closed, graceMs);
      server.closeAllConnections();
      await closed;
    },
  };
}

async function listen(server: http.Server | https.Server | http2.Http2Server | http2.Http2SecureServer, host: string, port: number): Promise<{ address: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const info = server.address() as AddressInfo;
  return { address: `${host}:${info.port}`, port: info.port };
}

function raceTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

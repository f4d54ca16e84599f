/**
 * The two listeners, one set of services: native gRPC on @grpc/grpc-js's server (agents, polyglot
 * clients, the CLI) and HTTP/1.1 for the Connect gateway on connect-node (Connect JSON, gRPC-Web,
 * browsers, curl).
 *
 * Both can serve TLS from the configured certificate; the native listener can also require client
 * certificates (mTLS). A connection that has no call admitted (native) or sends no request headers
 * (gateway) within the unauthenticated deadline, or does not finish its TLS handshake by then, is
 * closed, so idle sockets cannot pile up.
 */
import { cors as connectCors } from '@connectrpc/connect';
import type { connectNodeAdapter } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { ConnectionInfo } from './grpc-native.js';
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
  /** Close connections that have no admitted call / no request headers (or no TLS handshake) within this many ms. */
  unauthenticatedDeadlineMs?: number;
  /** The gateway ends a request whose body has not arrived within this many ms (the native listener's is in grpc-native.ts). */
  requestReadTimeoutMs?: number;
}

/**
 * The native listener: grpc-js serves the connections this listener accepts (its connection
 * injector), so the listener keeps what grpc-js has no option for: the deadline by which a
 * connection must have had a call admitted (which also bounds a stalled TLS handshake), and the
 * sockets to cut when the shutdown grace ends.
 */
export async function listenGrpc(
  /** Builds the grpc-js Server; it calls `admitted` with each admitted call's connection. */
  build: (admitted: (connection: ConnectionInfo) => void) => grpc.Server,
  host: string,
  port: number,
  opts: ListenOptions = {},
): Promise<Listener> {
  const { tls, unauthenticatedDeadlineMs: deadline } = opts;
  const unadmitted = new Map<string, NodeJS.Timeout>();
  const grpcServer = build((connection) => {
    const key = `${connection.remoteAddress}:${connection.remotePort}`;
    clearTimeout(unadmitted.get(key));
    unadmitted.delete(key);
  });
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], Boolean(tls.clientCa))
    : grpc.ServerCredentials.createInsecure();
  const injector = grpcServer.createConnectionInjector(credentials);
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    if (deadline) {
      // No admitted call yet means no credential yet: a silent or refused-only connection is cut.
      const timer = setTimeout(() => socket.destroy(), deadline);
      timer.unref();
      unadmitted.set(key, timer);
    }
    socket.once('close', () => {
      sockets.delete(socket);
      clearTimeout(unadmitted.get(key));
      unadmitted.delete(key);
    });
    injector.injectConnection(socket);
  });
  const bound = await listen(server, host, port);
  return {
    ...bound,
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // GOAWAY: no new calls on existing connections; open ones may finish.
      const drained = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      await raceTimeout(drained, graceMs);
      grpcServer.forceShutdown();
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
  const { tls, unauthenticatedDeadlineMs: deadline, requestReadTimeoutMs: readTimeout = 300_000 } = opts;
  // headersTimeout is checked every connectionsCheckingInterval, so check often enough to honour it.
  const timeouts: http.ServerOptions = deadline
    ? { headersTimeout: Math.min(deadline, readTimeout), requestTimeout: readTimeout, connectionsCheckingInterval: Math.min(1_000, deadline) }
    : { requestTimeout: readTimeout };
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

async function listen(server: net.Server, host: string, port: number): Promise<{ address: string; port: number }> {
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

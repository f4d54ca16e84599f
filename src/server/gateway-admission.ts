/**
 * Credentials before bytes on the gateway. connect-node reads, decompresses and parses a request's
 * body before any interceptor runs, so the gateway admits each RPC here, from its path and headers,
 * before connect-node sees it. A refused call is answered in its own protocol (Connect unary,
 * Connect streaming, gRPC-Web) with connect's own error encoders, and its body is never read: the
 * connection closes after the answer, as HTTP/1.1 cannot skip a body it did not read. An admitted
 * call carries its admission to the gateway interceptor (call-admission.ts) in its context values.
 */
import { Code, ConnectError, createContextKey, createContextValues, type ContextValues, type Interceptor } from '@connectrpc/connect';
import { encodeEnvelope } from '@connectrpc/connect/protocol';
import { codeToHttpStatus, endStreamFlag, endStreamToJson, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import { setTrailerStatus } from '@connectrpc/connect/protocol-grpc';
import { peerKey } from './auth.js';
import type { Admission, CallAdmission } from './call-admission.js';
import { jsonDepthGuardFor } from './json-nesting.js';
import type { NodeHandlerFn } from './listeners.js';

/** What connect-node's handler takes: an HTTP/1.1 request here, an HTTP/2 one in the benchmark's h2c gateway. */
type Request = Parameters<NodeHandlerFn>[0];
type Response = Parameters<NodeHandlerFn>[1];

/** The admission the gateway made for this call before connect-node read its body. */
export const admissionKey = createContextKey<Admission | null>(null, { description: 'admission made from the headers' });

export class GatewayAdmission {
  private readonly admitted = new WeakMap<Request, Admission>();

  constructor(
    private readonly calls: CallAdmission,
    /** "package.Service/Method" of every RPC served; other paths go to connect-node as they are (a 404). */
    private readonly procedures: ReadonlySet<string>,
  ) {}

  /** connect-node's `contextValues`: the caller's address and the admission made here. */
  contextValues = (req: Request): ContextValues => {
    const values = createContextValues();
    const { remoteAddress, remotePort } = req.socket;
    if (remoteAddress) values.set(peerKey, `${remoteAddress}:${remotePort ?? ''}`);
    values.set(admissionKey, this.admitted.get(req) ?? null);
    return values;
  };

  /** connect-node's one interceptor: runs the call admitted in front of it. */
  interceptor(): Interceptor {
    return (next) => async (req) => {
      const admission = req.contextValues.get(admissionKey);
      // wrap() admits every served RPC before connect-node sees it: none here is a wiring bug.
      if (!admission) throw new ConnectError(`${req.url} reached connect-node without admission`, Code.Internal);
      return this.calls.run(admission, req.contextValues, req.url, () => next(req));
    };
  }

  /** Wraps connect-node's handler: admit from the headers, then hand over or refuse. */
  wrap(handler: NodeHandlerFn): NodeHandlerFn {
    return (req, res) => {
      const procedure = (req.url ?? '').split('?', 1)[0]!.slice(1);
      if (!this.procedures.has(procedure)) return handler(req, res);
      const { remoteAddress, remotePort } = req.socket;
      const header = { get: (name: string): string | null => headerValue(req, name) };
      this.calls.admit({ procedure, header, peer: remoteAddress ? `${remoteAddress}:${remotePort ?? ''}` : undefined }).then(
        (admission) => {
          const compressed = compressedJson(req);
          if (compressed) return refuse(req, res, compressed);
          this.admitted.set(req, admission);
          guardJsonDepth(req);
          handler(req, res);
        },
        (err: unknown) => refuse(req, res, ConnectError.from(err)),
      );
    };
  }
}

function contentTypeOf(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/**
 * A compressed JSON request is refused: its nesting could only be bounded after connect-node had
 * decompressed it, and browsers and curl send JSON uncompressed (compressed requests are welcome as
 * protobuf, or on the native listener). Compressed sizes are bounded by readMaxBytes either way.
 */
function compressedJson(req: Request): ConnectError | null {
  const contentType = contentTypeOf(req);
  const url = new URL(req.url ?? '/', 'http://gateway');
  const isJson = contentType.endsWith('json') || (req.method === 'GET' && url.searchParams.get('encoding') === 'json');
  if (!isJson) return null;
  const encodings = [headerValue(req, 'content-encoding'), headerValue(req, 'connect-content-encoding'), headerValue(req, 'grpc-encoding'), url.searchParams.get('compression')];
  const encoding = encodings.find((e): e is string => e !== null && e !== '' && e !== 'identity');
  if (encoding === undefined) return null;
  return new ConnectError(`compressed JSON requests are not accepted (${encoding.slice(0, 20)}): send JSON uncompressed, or compress protobuf`, Code.InvalidArgument);
}

/** Reads a JSON body through a depth guard (json-nesting.ts) on its way to connect-node. */
function guardJsonDepth(req: Request): void {
  const guard = jsonDepthGuardFor(contentTypeOf(req));
  if (!guard) return;
  const chunks = req[Symbol.asyncIterator].bind(req);
  // connect-node reads the body by iterating the request: the guard sees every byte first, and its
  // error (invalid_argument) is the call's answer.
  Object.defineProperty(req, Symbol.asyncIterator, {
    value: async function* guarded(): AsyncGenerator<Uint8Array> {
      for await (const chunk of chunks()) {
        try {
          guard.feed(chunk as Uint8Array);
        } catch (err) {
          req.resume(); // the rest is dropped unparsed, so the answer is not lost to a reset of the connection
          throw err;
        }
        yield chunk as Uint8Array;
      }
    },
  });
}

function headerValue(req: Request, name: string): string | null {
  const value = req.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The refusal in the request's own protocol, as connect-node would have written it. */
function refuse(req: Request, res: Response, err: ConnectError): void {
  const contentType = contentTypeOf(req);
  if (contentType.startsWith('application/grpc')) {
    // gRPC-Web: a trailers-only answer, the status (and the error's metadata) in the headers.
    const headers = setTrailerStatus(new Headers(), err);
    headers.set('content-type', contentType.startsWith('application/grpc-web') ? 'application/grpc-web+proto' : 'application/grpc');
    headers.set('connection', 'close');
    res.writeHead(200, plain(headers));
    res.end();
  } else if (contentType.startsWith('application/connect+')) {
    // Connect streaming: the error travels in the end-of-stream message, its metadata with it.
    const endStream = new TextEncoder().encode(JSON.stringify(endStreamToJson(new Headers(), err, undefined)));
    res.writeHead(200, { 'content-type': contentType, connection: 'close' });
    res.end(encodeEnvelope(endStreamFlag, endStream));
  } else {
    // Connect unary (JSON, binary or GET): the status as HTTP status, the error as JSON, its metadata as headers.
    const headers = new Headers(err.metadata);
    headers.set('content-type', 'application/json');
    headers.set('connection', 'close');
    res.writeHead(codeToHttpStatus(err.code), plain(headers));
    res.end(errorToJsonBytes(err, undefined));
  }
}

function plain(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, key) => (out[key] = value));
  return out;
}

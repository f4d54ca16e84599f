/**
 * The native gRPC listener's adapter: the one set of service implementations (services.ts) served by
 * @grpc/grpc-js's Server. grpc-js owns HTTP/2, gRPC framing, flow control, deadlines and the message
 * size limit; protobuf-es owns the messages, parsed and serialized with connect's own serializers so
 * a malformed message is answered exactly as on the gateway; CallAdmission owns what a call means.
 *
 * A call is admitted in a grpc-js interceptor when its headers arrive. grpc-js reads a call's body
 * only once the interceptor passes the headers on, so a call without a valid credential costs the
 * coordinator its headers and nothing more. The handler then finds its admission by the metadata
 * object grpc-js hands to both.
 */
import { create, isMessage, type DescMessage, type Message } from '@bufbuild/protobuf';
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  createServiceImplSpec,
  decodeBinaryHeader,
  encodeBinaryHeader,
  type HandlerContext,
  type MethodImplSpec,
} from '@connectrpc/connect';
import { createMethodSerializationLookup, type Serialization } from '@connectrpc/connect/protocol';
import * as grpc from '@grpc/grpc-js';
import type { Admission, CallAdmission } from './call-admission.js';
import { endCallKey } from '../api/end-call.js';
import { peerKey } from './auth.js';
import type { MountedService } from './services.js';

export interface NativeOptions {
  /** Largest message read or written, in bytes (grpc-js refuses larger ones before buffering them). */
  maxMessageBytes: number;
  /** Calls one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxStreamsPerConnection?: number;
  /** An admitted call's request (a streaming call's first message) must arrive within this, or the call ends DEADLINE_EXCEEDED. */
  requestReadTimeoutMs?: number;
  /** Told of each admitted call's connection (the listener lifts that connection's unauthenticated deadline). */
  admitted?: (connection: ConnectionInfo) => void;
}

/** Where a call's connection comes from (grpc-js's ConnectionInfo, not exported by name). */
export interface ConnectionInfo {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
}

interface Started {
  admission: Admission;
  ctx: HandlerContext & { abort(reason?: unknown): void };
  /** Ends the handler's signal once the answer is out; the client's cancel can no longer reach it. */
  finish(): void;
}

/**
 * The reason a finished call's signal carries. One shared error: grpc-js reports every call's stream
 * close as a cancel, and an error (or the DOMException `abort()` makes by default) per call is a
 * stack trace captured per call for nobody to read.
 */
const CALL_FINISHED = new ConnectError('the call finished', Code.Canceled);

interface Admitted {
  admission: Admission;
  header: Headers;
  /** Ends the call with a status now, ahead of messages grpc-js still buffers for a client that is not reading. */
  endNow: (status: grpc.StatusObject) => void;
}

/** A grpc-js Server with every service mounted and admission before the body. */
export function nativeServer(mounted: readonly MountedService[], calls: CallAdmission, opts: NativeOptions): grpc.Server {
  const admitted = new WeakMap<grpc.Metadata, Admitted>();
  const server = new grpc.Server({
    interceptors: [admissionInterceptor(calls, admitted, opts)],
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    'grpc.max_send_message_length': opts.maxMessageBytes,
    ...(opts.maxStreamsPerConnection ? { 'grpc.max_concurrent_streams': opts.maxStreamsPerConnection } : {}),
  });
  for (const { service, impl } of mounted) {
    const spec = createServiceImplSpec(service, impl);
    const definition: Record<string, grpc.MethodDefinition<Buffer, Message>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(spec.methods)) {
      const call = new NativeMethod(method, calls, admitted, opts.maxMessageBytes);
      definition[name] = call.definition();
      implementation[name] = call.handler();
    }
    server.addService(definition, implementation);
  }
  return server;
}

/**
 * Admits each call from its headers before grpc-js reads its body, then gives the request until
 * the read timeout to arrive: an admitted caller cannot hold a call open by never finishing it.
 */
function admissionInterceptor(calls: CallAdmission, admitted: WeakMap<grpc.Metadata, Admitted>, opts: NativeOptions): grpc.ServerInterceptor {
  return (descriptor, call) => {
    let readTimer: NodeJS.Timeout | undefined;
    const arrived = (): void => clearTimeout(readTimer);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const header = headersOf(metadata);
            calls.admit({ procedure: descriptor.path.slice(1), header, peer: call.getPeer() }).then(
              (admission) => {
                admitted.set(metadata, { admission, header, endNow: (status) => call.sendStatus(status) });
                opts.admitted?.(call.getConnectionInfo());
                const timeoutMs = opts.requestReadTimeoutMs;
                if (timeoutMs) {
                  readTimer = setTimeout(() => call.sendStatus({ code: grpc.status.DEADLINE_EXCEEDED, details: `the request did not arrive within ${timeoutMs} ms`, metadata: new grpc.Metadata() }), timeoutMs);
                  readTimer.unref();
                }
                pass(metadata);
              },
              (err: unknown) => call.sendStatus(statusOf(err)),
            );
          },
          onReceiveMessage: (message, pass) => {
            arrived();
            pass(message);
          },
          onReceiveHalfClose: (pass) => {
            arrived();
            pass();
          },
          onCancel: arrived,
        }),
    });
  };
}

/** What every kind of grpc-js server call has. */
type SurfaceCall = Pick<grpc.ServerUnaryCall<Buffer, Message>, 'metadata' | 'getPeer' | 'getDeadline' | 'sendMetadata'> & {
  once(event: 'cancelled', listener: () => void): unknown;
  off(event: 'cancelled', listener: () => void): unknown;
};
type Writer = grpc.ServerWritableStream<Buffer, Message> | grpc.ServerDuplexStream<Buffer, Message>;

/** One RPC of one service on the native listener. */
class NativeMethod {
  private readonly input: Serialization<Message>;
  private readonly output: Serialization<Message>;
  private readonly procedure: string;

  constructor(
    private readonly spec: MethodImplSpec,
    private readonly calls: CallAdmission,
    private readonly admitted: WeakMap<grpc.Metadata, Admitted>,
    maxMessageBytes: number,
  ) {
    const serialization = createMethodSerializationLookup(spec.method as never, undefined, undefined, { readMaxBytes: maxMessageBytes, writeMaxBytes: maxMessageBytes });
    this.input = serialization.getI(true);
    this.output = serialization.getO(true);
    this.procedure = `/${spec.method.parent.typeName}/${spec.method.name}`;
  }

  /** Bytes in and out: grpc-js hands the handler the raw request, parsed here so errors match the gateway's. */
  definition(): grpc.MethodDefinition<Buffer, Message> {
    const kind = this.spec.kind;
    const serialize = (message: unknown): Buffer => {
      const bytes = this.output.serialize(normalize(this.spec.method.output, message));
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    };
    return {
      path: this.procedure,
      requestStream: kind === 'client_streaming' || kind === 'bidi_streaming',
      responseStream: kind === 'server_streaming' || kind === 'bidi_streaming',
      requestSerialize: (bytes: Buffer) => bytes,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: serialize,
      responseDeserialize: () => {
        throw new Error('the server does not read responses');
      },
    };
  }

  handler(): grpc.UntypedHandleCall {
    const { spec, input } = this;
    switch (spec.kind) {
      case 'unary':
        return (call: grpc.ServerUnaryCall<Buffer, Message>, callback: grpc.sendUnaryData<Message>) => {
          const started = this.begin(call);
          const { ctx } = started;
          this.answerOnce(started, call, callback, async () => ({ stream: false, header: ctx.responseHeader, message: await spec.impl(input.parse(call.request), ctx) }));
        };
      case 'client_streaming':
        return (call: grpc.ServerReadableStream<Buffer, Message>, callback: grpc.sendUnaryData<Message>) => {
          const started = this.begin(call);
          const { ctx } = started;
          this.answerOnce(started, call, callback, async () => ({ stream: false, header: ctx.responseHeader, message: await spec.impl(new ParsedRequests(call, input), ctx) }));
        };
      case 'server_streaming':
        return (call: grpc.ServerWritableStream<Buffer, Message>) => {
          const started = this.begin(call);
          const { ctx } = started;
          this.answerStream(started, call, async () => ({ stream: true, header: ctx.responseHeader, message: spec.impl(input.parse(call.request), ctx) }));
        };
      case 'bidi_streaming':
        return (call: grpc.ServerDuplexStream<Buffer, Message>) => {
          const started = this.begin(call);
          const { ctx } = started;
          this.answerStream(started, call, async () => ({ stream: true, header: ctx.responseHeader, message: spec.impl(new ParsedRequests(call, input), ctx) }));
        };
    }
  }

  /** The call's admission, and the handler context a connect handler expects from what grpc-js knows of the call. */
  private begin(call: SurfaceCall): Started {
    const admitted = this.admitted.get(call.metadata);
    // The interceptor admits every call before grpc-js runs its handler; reaching here without is a bug.
    if (!admitted) throw new Error(`${this.procedure} reached its handler without admission`);
    const cancelled = new AbortController();
    const onCancelled = (): void => cancelled.abort(new ConnectError('the client cancelled the call', Code.Canceled));
    call.once('cancelled', onCancelled);
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    const values = createContextValues();
    values.set(peerKey, call.getPeer());
    values.set(endCallKey, (err) => admitted.endNow(statusOf(err, new Headers())));
    const ctx = createHandlerContext({
      service: this.spec.method.parent,
      method: this.spec.method,
      protocolName: 'grpc',
      requestMethod: 'POST',
      url: this.procedure,
      ...(Number.isFinite(deadlineMs) ? { timeoutMs: deadlineMs - Date.now() } : {}),
      requestSignal: cancelled.signal,
      requestHeader: admitted.header,
      contextValues: values,
    });
    const finish = (): void => {
      call.off('cancelled', onCancelled);
      ctx.abort(CALL_FINISHED);
    };
    return { admission: admitted.admission, ctx, finish };
  }

  private answerOnce({ admission, ctx, finish }: Started, call: SurfaceCall, callback: grpc.sendUnaryData<Message>, invoke: () => Promise<{ stream: false; header: Headers; message: unknown }>): void {
    this.calls
      .run(admission, ctx.values, this.procedure, invoke)
      .then(
        (res) => {
          call.sendMetadata(metadataOf(res.header));
          callback(null, res.message as Message, metadataOf(ctx.responseTrailer));
        },
        (err: unknown) => callback(statusOf(err, ctx.responseTrailer)),
      )
      .finally(finish);
  }

  private answerStream({ admission, ctx, finish }: Started, call: Writer, invoke: () => Promise<{ stream: true; header: Headers; message: AsyncIterable<unknown> }>): void {
    this.calls
      .run(admission, ctx.values, this.procedure, invoke)
      .then(
        (res) => {
          call.sendMetadata(metadataOf(res.header));
          return writeAll(call, res.message as AsyncIterable<Message>, ctx.responseTrailer);
        },
        (err: unknown) => void call.emit('error', statusOf(err, ctx.responseTrailer)),
      )
      .finally(finish);
  }
}

/**
 * Writes a streaming answer as the client reads it: waits for 'drain' when grpc-js's buffer is
 * full, stops when the client is gone, and ends with the trailers or the error's status.
 */
async function writeAll(call: Writer, messages: AsyncIterable<Message>, trailer: Headers): Promise<void> {
  const it = messages[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      if (call.cancelled || call.destroyed) {
        await it.return?.();
        return;
      }
      if (!call.write(next.value)) await writable(call);
    }
    call.end(metadataOf(trailer));
  } catch (err) {
    call.emit('error', statusOf(err, trailer));
  }
}

/** Resolves when grpc-js takes writes again, or the call is gone. */
function writable(call: Writer): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
  });
}

/**
 * The requests of a streaming call, parsed as the handler asks for them. Not Node's own iterator
 * as is: returning from it would destroy the duplex, and with it the answer still to be written.
 */
class ParsedRequests implements AsyncIterableIterator<Message> {
  private readonly raw: AsyncIterator<Buffer>;

  constructor(
    call: grpc.ServerReadableStream<Buffer, Message> | grpc.ServerDuplexStream<Buffer, Message>,
    private readonly input: Serialization<Message>,
  ) {
    this.raw = call.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  }

  async next(): Promise<IteratorResult<Message>> {
    const next = await this.raw.next();
    return next.done ? { done: true, value: undefined } : { done: false, value: this.input.parse(next.value) };
  }

  async return(): Promise<IteratorResult<Message>> {
    await this.raw.return?.();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Handlers may answer with a message's init shape, as connect allows. */
function normalize(desc: DescMessage, message: unknown): Message {
  return isMessage(message, desc) ? message : create(desc, message as never);
}

/** gRPC metadata as the Headers connect handlers read; binary values base64, as on the gateway. */
function headersOf(metadata: grpc.Metadata): Headers {
  const header = new Headers();
  for (const key of Object.keys(metadata.getMap())) {
    for (const value of metadata.get(key)) header.append(key, typeof value === 'string' ? value : encodeBinaryHeader(value));
  }
  return header;
}

function metadataOf(header: Headers): grpc.Metadata {
  const metadata = new grpc.Metadata();
  header.forEach((value, key) => (key.endsWith('-bin') ? metadata.add(key, Buffer.from(decodeBinaryHeader(value))) : metadata.add(key, value)));
  return metadata;
}

/** A refusal or failure as grpc-js sends it: the same code and message the gateway sends, and the error's metadata as trailers. */
function statusOf(err: unknown, trailer?: Headers): grpc.StatusObject {
  const error = ConnectError.from(err);
  const metadata = trailer ? metadataOf(trailer) : new grpc.Metadata();
  error.metadata.forEach((value, key) => metadata.set(key, value));
  return { code: error.code as number as grpc.status, details: error.rawMessage, metadata };
}


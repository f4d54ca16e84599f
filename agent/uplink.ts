/**
 * The agent's side of whatever stream is current. Control messages (heartbeats, accepts) are only
 * meaningful on a live stream and are dropped while disconnected; log chunks are kept in a backlog
 * and sent after the next welcome, so output survives a reconnect (the coordinator dedupes them by
 * sequence). The backlog is bounded by the log batchers: each stops at the first refused chunk.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { ConnectRequestSchema, type ConnectRequest } from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import type { LogChunk } from '../gen/ts/gigafactory/fleet/v1/log_pb.js';
import type { FactoryStream } from './grpc-client.js';
import type { LogSink } from './log-batcher.js';

type RequestKind = NonNullable<MessageInitShape<typeof ConnectRequestSchema>['kind']>;

export class Uplink {
  private stream: FactoryStream | null = null;
  private readonly backlog: ConnectRequest[] = [];
  private waiters: (() => void)[] = [];

  /** The stream is welcomed: send what waited, then go live. */
  attach(stream: FactoryStream): void {
    this.stream = stream;
    stream.on('drain', () => this.wake());
    while (this.backlog.length && this.stream === stream) stream.write(this.backlog.shift()!);
    this.wake();
  }

  detach(): void {
    this.stream = null;
  }

  get connected(): boolean {
    return this.stream !== null;
  }

  /** Sends now or not at all. Returns whether it was written. */
  sendControl(kind: RequestKind): boolean {
    if (!this.stream) return false;
    this.stream.write(create(ConnectRequestSchema, { kind }));
    return true;
  }

  /** A LogSink for one job's batcher, with backpressure from the stream and across reconnects. */
  logSink(): LogSink {
    return {
      send: (chunk: LogChunk): boolean => {
        const message = create(ConnectRequestSchema, { kind: { case: 'logChunk', value: chunk } });
        if (!this.stream) {
          this.backlog.push(message);
          return false;
        }
        return this.stream.write(message);
      },
      drained: () => new Promise<void>((resolve) => this.waiters.push(resolve)),
    };
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

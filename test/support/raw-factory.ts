/**
 * A hand-driven factory for protocol tests: real native gRPC to a real coordinator, where the test
 * decides every message (including wrong ones) and waits for specific answers. No sleeps: `next`
 * resolves when a matching message arrives.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { createClient, type ConnectError } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import {
  ConnectRequestSchema,
  FactoryService,
  type ConnectRequest,
  type ConnectResponse,
} from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { Outbox } from '../../src/api/outbox.js';

type ResponseCase = NonNullable<ConnectResponse['kind']['case']>;
type ResponseOf<C extends ResponseCase> = Extract<ConnectResponse['kind'], { case: C }>['value'];

export class RawFactory {
  private readonly outgoing = new Outbox<ConnectRequest>();
  private readonly received: ConnectResponse[] = [];
  private waiters: (() => void)[] = [];
  /** Set when the stream ended: null for a clean end, the error otherwise. */
  ended: { error: ConnectError | null } | null = null;
  private readonly abort = new AbortController();

  /** `opts.token` is sent as `authorization: Bearer`; `opts.nodeOptions` carries TLS material. */
  constructor(grpcUrl: string, opts: { token?: string; nodeOptions?: Parameters<typeof createGrpcTransport>[0]['nodeOptions'] } = {}) {
    const client = createClient(FactoryService, createGrpcTransport({ baseUrl: grpcUrl, ...(opts.nodeOptions ? { nodeOptions: opts.nodeOptions } : {}) }));
    const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
    void (async () => {
      try {
        for await (const message of client.connect(this.outgoing, { signal: this.abort.signal, headers })) {
          this.received.push(message);
          this.notify();
        }
        this.ended = { error: null };
      } catch (err) {
        this.ended = { error: err as ConnectError };
      }
      this.notify();
    })();
  }

  send(kind: NonNullable<MessageInitShape<typeof ConnectRequestSchema>['kind']>): void {
    this.outgoing.push(create(ConnectRequestSchema, { kind }));
  }

  hello(factoryId: string, opts: { slots?: number; labels?: Record<string, string>; running?: { jobId: string; epoch: bigint }[]; agentVersion?: string } = {}): void {
    this.send({ case: 'hello', value: { factoryId, slots: opts.slots ?? 1, labels: opts.labels ?? {}, agentVersion: opts.agentVersion ?? 'raw-test', runningJobs: opts.running ?? [] } });
  }

  /** Resolves with the first not-yet-taken message of this kind (and matching `where`). */
  async next<C extends ResponseCase>(kind: C, where: (m: ResponseOf<C>) => boolean = () => true): Promise<ResponseOf<C>> {
    for (;;) {
      const index = this.received.findIndex((m) => m.kind.case === kind && where(m.kind.value as ResponseOf<C>));
      if (index >= 0) return this.received.splice(index, 1)[0]!.kind.value as ResponseOf<C>;
      if (this.ended) throw new Error(`stream ended before a ${kind} arrived: ${this.ended.error?.message ?? 'clean end'}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves when the stream has ended. */
  async closed(): Promise<{ error: ConnectError | null }> {
    while (!this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.ended;
  }

  /** Half-closes our side (a clean goodbye from the factory). */
  finish(): void {
    this.outgoing.end();
  }

  /** Breaks the stream abruptly, as a crash or network cut would. */
  breakStream(): void {
    this.abort.abort();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

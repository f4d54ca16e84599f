/**
 * One load process of the fleet-size part: opens `BENCH_FLEET_STREAMS` idle factory streams to the
 * coordinator, `BENCH_FLEET_PER_CONNECTION` of them multiplexed on each HTTP/2 connection (one
 * grpc-js Client with a subchannel pool of its own per connection), each with its own factory
 * identity and hello. Every stream heartbeats on the interval its welcome gives and times each
 * heartbeat → HeartbeatAck (matched by sequence). Run by bench/fleet.ts over the fork IPC channel:
 * it reports `connected` once every stream is welcomed, clears its latencies on `measure`, and sends
 * them (milliseconds) on `report`.
 */
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { DEFAULT_FACTORY_CLIENT_OPTIONS, openFactoryStream, type FactoryStream } from '../agent/grpc-client.js';
import { ConnectRequestSchema, type ConnectResponse } from '../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';

export type ToFleetChild = { t: 'measure' } | { t: 'report' };
export type FromFleetChild =
  | { t: 'connected'; streams: number; connectMs: number }
  | { t: 'failed'; message: string }
  | { t: 'report'; latenciesMs: Float64Array; heartbeats: number; unanswered: number; ended: number; endReasons: Record<string, number>; heartbeatIntervalMs: number };

async function main(): Promise<void> {
  const address = process.env.BENCH_FLEET_ADDRESS!;
  const streams = Number(process.env.BENCH_FLEET_STREAMS);
  const perConnection = Number(process.env.BENCH_FLEET_PER_CONNECTION);
  const prefix = process.env.BENCH_FLEET_PREFIX!;
  const send = (m: FromFleetChild): void => void process.send!(m);

  const o = DEFAULT_FACTORY_CLIENT_OPTIONS;
  const clients: grpc.Client[] = [];
  let latencies: number[] = [];
  let heartbeats = 0;
  let ended = 0;
  /** Why streams ended ("UNAVAILABLE Connection dropped" → count): none should. */
  const endReasons: Record<string, number> = {};
  let intervalMs = 0;
  /** Sequence → send time, per stream; an answered heartbeat is removed. */
  const pending: Map<bigint, number>[] = [];
  const started = performance.now();
  const welcomes: Promise<void>[] = [];

  for (let i = 0; i < streams; i++) {
    // Each connection's first stream is welcomed before the rest are opened on it. Opening all 500 in
    // one synchronous loop kept every call off the wire until the loop ended, and on a busy machine
    // that outlasted the coordinator's unauthenticated deadline (a connection with no admitted call
    // is cut after 10 s); real agents do not open streams that way.
    if (i % perConnection === 1) await welcomes[i - 1]!.catch(() => {});
    if (i % perConnection === 0) {
      clients.push(
        new grpc.Client(address, grpc.credentials.createInsecure(), {
          'grpc.keepalive_time_ms': o.keepaliveTimeMs,
          'grpc.keepalive_timeout_ms': o.keepaliveTimeoutMs,
          'grpc.keepalive_permit_without_calls': 1,
          'grpc.use_local_subchannel_pool': 1,
        }),
      );
    }
    const stream: FactoryStream = openFactoryStream(clients[clients.length - 1]!);
    const sent = new Map<bigint, number>();
    pending.push(sent);
    let sequence = 0n;
    const welcome = new Promise<void>((resolve, reject) => {
      stream.on('error', () => {}); // the status carries it
      stream.once('status', (status: grpc.StatusObject) => {
        ended++;
        const reason = `${grpc.status[status.code]} ${status.details}`;
        endReasons[reason] = (endReasons[reason] ?? 0) + 1;
        reject(new Error(`stream ${i} ended: ${grpc.status[status.code]} ${status.details}`));
      });
      stream.on('data', (m: ConnectResponse) => {
        if (m.kind.case === 'welcome') {
          const d = m.kind.value.heartbeatInterval;
          intervalMs = d ? Number(d.seconds) * 1000 + d.nanos / 1e6 : 5_000;
          const beat = (): void => {
            sequence++;
            sent.set(sequence, performance.now());
            heartbeats++;
            stream.write(create(ConnectRequestSchema, { kind: { case: 'heartbeat', value: { sequence, runningJobs: [] } } }));
          };
          // Real agents connect at unrelated moments, so their heartbeats are spread over the
          // interval; streams opened here within a second of each other would otherwise all beat
          // in the same few milliseconds, and the figure would be this process's own queue.
          setTimeout(() => {
            beat();
            setInterval(beat, intervalMs);
          }, Math.random() * intervalMs);
          resolve();
        } else if (m.kind.case === 'heartbeatAck') {
          const at = sent.get(m.kind.value.sequence);
          if (at !== undefined) {
            sent.delete(m.kind.value.sequence);
            latencies.push(performance.now() - at);
          }
        }
      });
      stream.write(create(ConnectRequestSchema, { kind: { case: 'hello', value: { factoryId: `${prefix}-${i}`, slots: 1, agentVersion: 'bench-fleet', labels: { os: 'linux' } } } }));
    });
    // Awaited below with the others; while the loop still waits for a connection's first stream, a
    // stream that ends must not be an unhandled rejection that kills this process.
    welcome.catch(() => {});
    welcomes.push(welcome);
  }
  try {
    await Promise.all(welcomes);
  } catch (err) {
    send({ t: 'failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  send({ t: 'connected', streams, connectMs: performance.now() - started });

  process.on('message', (raw) => {
    const m = raw as ToFleetChild;
    if (m.t === 'measure') {
      latencies = [];
      heartbeats = 0;
      for (const sent of pending) sent.clear();
    } else {
      const unanswered = pending.reduce((n, sent) => n + sent.size, 0);
      send({ t: 'report', latenciesMs: Float64Array.from(latencies), heartbeats, unanswered, ended, endReasons, heartbeatIntervalMs: intervalMs });
    }
  });
  // The parent going away ends this process (and its streams) too.
  process.once('disconnect', () => process.exit(0));
}

void main();

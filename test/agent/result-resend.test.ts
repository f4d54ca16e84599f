/**
 * A job result lost on a live stream is sent again by a real agent process, without waiting for a
 * reconnect. The coordinator is a stand-in (a real grpc-js server on loopback) that answers
 * heartbeats but drops the first result it gets, as a coordinator bug or a lost ack would.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectResponseSchema, type ConnectRequest, type ConnectResponse, type JobResult } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { AttemptOutcome } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { spawnAgent, type ManagedProcess } from '../support/processes.js';
import { factoryServiceDefinition, listenOnLoopback, tempWorkDir } from './helpers.js';

const HEARTBEAT_MS = 100;

type RequestOf<K> = Extract<ConnectRequest['kind'], { case: K }>['value'];

/** What the stand-in saw, in arrival order, and a way to wait for something in it. */
class Seen {
  readonly messages: { stream: number; message: ConnectRequest }[] = [];
  private waiters: (() => void)[] = [];

  push(stream: number, message: ConnectRequest): void {
    this.messages.push({ stream, message });
    for (const w of this.waiters.splice(0)) w();
  }

  /** The messages of one kind, with the stream each came on. */
  of<K extends NonNullable<ConnectRequest['kind']['case']>>(kind: K): { stream: number; value: RequestOf<K> }[] {
    const out: { stream: number; value: RequestOf<K> }[] = [];
    for (const m of this.messages) if (m.message.kind.case === kind) out.push({ stream: m.stream, value: m.message.kind.value as RequestOf<K> });
    return out;
  }

  async until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

let server: grpc.Server;
let agent: ManagedProcess | null = null;
let cleanup: () => Promise<void>;
let seen: Seen;

/** Welcomes with a short heartbeat, offers one job, acknowledges heartbeats, drops the first result. */
async function startStandIn(): Promise<string> {
  server = new grpc.Server();
  let streams = 0;
  let results = 0;
  server.addService(factoryServiceDefinition, {
    Connect: (call: grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>) => {
      const stream = ++streams;
      const reply = (kind: NonNullable<MessageInitShape<typeof ConnectResponseSchema>['kind']>): boolean => call.write(create(ConnectResponseSchema, { kind }));
      call.on('data', (req: ConnectRequest) => {
        seen.push(stream, req);
        const kind = req.kind;
        if (kind.case === 'hello') {
          reply({ case: 'welcome', value: { sessionId: `s${stream}`, heartbeatInterval: durationFromMs(HEARTBEAT_MS), leaseTtl: durationFromMs(60_000) } });
          if (stream === 1) reply({ case: 'leaseOffer', value: { jobId: 'job-1', epoch: 1n, job: { id: 'job-1', command: ['true'] } } });
        } else if (kind.case === 'heartbeat') {
          reply({ case: 'heartbeatAck', value: { sequence: kind.value.sequence } });
        } else if (kind.case === 'jobResult' && ++results > 1) {
          reply({ case: 'resultAck', value: { jobId: kind.value.jobId, epoch: kind.value.epoch } });
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
  });
  return (await listenOnLoopback(server)).address;
}

let workDir: string;
beforeEach(async () => {
  seen = new Seen();
  ({ dir: workDir, cleanup } = await tempWorkDir());
});
afterEach(async () => {
  await agent?.kill('SIGKILL');
  agent = null;
  server.forceShutdown();
  await cleanup();
});

describe('an agent whose result is lost on a live stream', () => {
  it('sends it again on the same stream, and stops listing the lease once it is acknowledged', async () => {
    const address = await startStandIn();
    agent = await spawnAgent({ coordinator: address, id: 'resender', workDir });
    await seen.until(() => seen.of('jobResult').length >= 2);
    // Once the ack is in, heartbeats no longer list the job (the result is no longer pending).
    const acked = seen.messages.length;
    const listsNothing = (m: Seen['messages'][number]): boolean => m.message.kind.case === 'heartbeat' && m.message.kind.value.runningJobs.length === 0;
    await seen.until(() => seen.messages.slice(acked).some(listsNothing));

    const results = seen.of('jobResult');
    expect(results.map((r) => r.stream)).toEqual([1, 1]); // no reconnect was needed
    const [first, second] = results.map((r) => r.value) as [JobResult, JobResult];
    expect(first).toMatchObject({ jobId: 'job-1', epoch: 1n, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0 });
    expect(second).toEqual(first);
    expect(seen.of('hello')).toHaveLength(1);
    // Between the two sends the agent kept listing the lease, as a result not yet recorded.
    const heartbeats = seen.of('heartbeat').map((h) => h.value.runningJobs.map((r) => r.jobId));
    expect(heartbeats.some((jobs) => jobs.includes('job-1'))).toBe(true);
    expect(seen.of('jobResult')).toHaveLength(2); // and it was not sent a third time meanwhile
  });
});

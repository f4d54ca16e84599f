/**
 * Shutdown ends long-lived calls cleanly, without connect-node's shutdownSignal: open WatchJobs and
 * TailLogs followers finish with OK (the coordinator's OpenStreams ends them), and a factory stream
 * gets the coordinator's goodbye. A call that ends on its own is no longer tracked.
 */
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { expect, it } from 'vitest';
import { GoodbyeReason } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { JobService } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { RawFactory } from '../support/raw-factory.js';
import { startTestServer, type TestServer } from '../support/server.js';

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Reads a server stream to its end: the messages, and the error it ended with (null when OK). */
async function drain(stream: AsyncIterable<unknown>, onFirst: () => void = () => {}): Promise<{ messages: number; error: unknown }> {
  let messages = 0;
  try {
    for await (const _ of stream) if (++messages === 1) onFirst();
    return { messages, error: null };
  } catch (error) {
    return { messages, error };
  }
}

it('ends WatchJobs and TailLogs followers with OK and says goodbye to factories on shutdown', async () => {
  const server: TestServer = await startTestServer();
  let stopped = false;
  try {
    const jobs = createClient(JobService, createGrpcTransport({ baseUrl: server.grpcUrl }));
    const { job } = await jobs.submitJob({ productId: 'shutdown', command: ['true'], requiredLabels: [{ key: 'never', operator: 1, values: ['x'] }] });
    const streams = server.coordinator.streams;

    // A follower that ends on its own (no follow) is not tracked afterwards.
    expect(await drain(jobs.tailLogs({ jobId: job!.id }))).toEqual({ messages: 0, error: null });
    expect(streams.size).toBe(0);

    let watching = false;
    const watch = drain(jobs.watchJobs({ jobId: job!.id }), () => (watching = true));
    const tail = drain(jobs.tailLogs({ jobId: job!.id, follow: true }));
    const factory = new RawFactory(server.grpcUrl);
    factory.hello('shutdown-factory');
    await factory.next('welcome');
    await until(() => watching && streams.size === 2);

    await server.stop();
    stopped = true;
    expect(await watch).toEqual({ messages: 1, error: null }); // the replayed submit event, then a clean end
    expect(await tail).toEqual({ messages: 0, error: null });
    expect((await factory.next('goodbye')).reason).toBe(GoodbyeReason.SHUTDOWN);
    expect(streams.size).toBe(0);
  } finally {
    if (!stopped) await server.stop();
  }
});

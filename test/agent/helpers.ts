/**
 * Shared helpers for the agent tests: temp work dirs, reading a child's output, process liveness,
 * and what a coordinator stand-in (a real grpc-js server written in the test) needs.
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ConnectRequestSchema, ConnectResponseSchema, type ConnectRequest, type ConnectResponse } from '../../gen/ts/gigafactory/fleet/v1/factory_service_pb.js';
import { CONNECT_METHOD } from '../../agent/grpc-client.js';

/** FactoryService.Connect for a grpc-js server: a coordinator stand-in a test implements itself. */
export const factoryServiceDefinition: grpc.ServiceDefinition = {
  Connect: {
    path: CONNECT_METHOD,
    requestStream: true,
    responseStream: true,
    requestSerialize: (m: ConnectRequest) => Buffer.from(toBinary(ConnectRequestSchema, m)),
    requestDeserialize: (b: Buffer) => fromBinary(ConnectRequestSchema, b),
    responseSerialize: (m: ConnectResponse) => Buffer.from(toBinary(ConnectResponseSchema, m)),
    responseDeserialize: (b: Buffer) => fromBinary(ConnectResponseSchema, b),
  },
};

/** Binds `server` (insecure h2c) to an ephemeral port on 127.0.0.1. */
export function listenOnLoopback(server: grpc.Server): Promise<{ server: grpc.Server; address: string }> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve({ server, address: `127.0.0.1:${port}` }),
    ),
  );
}

export async function tempWorkDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gigafactory-agent-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Everything a readable produces, as text, once it ends. */
export async function readAll(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** Resolves with the first `count` lines the stream prints, without waiting for it to end. */
export function firstLines(stream: Readable, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (data: Buffer): void => {
      text += data.toString('utf8');
      const lines = text.split('\n');
      if (lines.length > count) {
        stream.off('data', onData);
        resolve(lines.slice(0, count));
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended after ${JSON.stringify(text)}`)));
  });
}

/**
 * Whether a process still runs. A zombie does not: it has exited and waits only for its parent to
 * reap it, and in a container whose pid 1 never reaps, orphans stay zombies forever.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may contain spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

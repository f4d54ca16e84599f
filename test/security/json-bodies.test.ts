/**
 * JSON bodies on the gateway: nesting is bounded while the bytes arrive (a deeply nested body is
 * refused with invalid_argument instead of parsed for seconds), compressed JSON is refused before
 * it is read, and a compressed protobuf body is bounded after decompression (resource_exhausted).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { encodeEnvelope } from '@connectrpc/connect/protocol';
import * as http from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetJobRequestSchema } from '../../gen/ts/gigafactory/fleet/v1/job_service_pb.js';
import { EnvelopedJsonDepthGuard, JsonDepthGuard, MAX_JSON_DEPTH } from '../../src/server/json-nesting.js';
import { startSecureServer, type SecureServer } from './helpers.js';
import { nestedJson } from '../support/attacks.js';

let server: SecureServer;
beforeAll(async () => {
  server = await startSecureServer({ maxMessageBytes: 1 << 20 });
});
afterAll(() => server.stop());

/** Over node:http, which reads the answer even when the server stops reading the body early (fetch would report a reset). */
function post(path: string, body: Uint8Array | string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.httpUrl}/gigafactory.fleet.v1.JobService/${path}`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${server.keys.viewer}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('JSON nesting', () => {
  it('refuses a deeply nested Connect JSON body with invalid_argument, and still answers sensible JSON', async () => {
    const refused = await post('GetJob', nestedJson(500_000), { 'content-type': 'application/json' });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text)).toEqual({ code: 'invalid_argument', message: `the request's JSON nests deeper than ${MAX_JSON_DEPTH} levels` });
    const brackets = await post('GetJob', JSON.stringify({ jobId: `job_${'[{'.repeat(200)}\\"` }), { 'content-type': 'application/json' });
    expect(JSON.parse(brackets.text)).toMatchObject({ code: 'not_found' });
  });

  it('refuses a deeply nested Connect streaming request (WatchJobs) in its own protocol', async () => {
    const body = encodeEnvelope(0, new TextEncoder().encode(nestedJson(100_000)));
    const res = await post('WatchJobs', body, { 'content-type': 'application/connect+json', 'connect-protocol-version': '1' });
    expect(res.text).toContain('"code":"invalid_argument"');
    expect(res.text).toContain('nests deeper than');
  });

  it('refuses compressed JSON before reading it, and bounds a compressed protobuf body after decompression', async () => {
    const gzipJson = await post('GetJob', gzipSync(nestedJson(1_000_000)), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(gzipJson.status).toBe(400);
    expect(JSON.parse(gzipJson.text)).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('compressed JSON requests are not accepted (gzip)') });
    const bomb = gzipSync(toBinary(GetJobRequestSchema, create(GetJobRequestSchema, { jobId: 'x'.repeat(2 << 20) })));
    expect(bomb.length).toBeLessThan(10_000);
    const proto = await post('GetJob', bomb, { 'content-type': 'application/proto', 'content-encoding': 'gzip' });
    expect(JSON.parse(proto.text)).toMatchObject({ code: 'resource_exhausted', message: expect.stringContaining('after decompression') });
  });
});

describe('the depth guards', () => {
  it('count brackets outside strings only, escaped quotes included', () => {
    const guard = new JsonDepthGuard(2);
    const text = new TextEncoder().encode('{"a":"[[[\\"[[{{","b":[1]}');
    expect(() => guard.feed(text)).not.toThrow();
    expect(() => new JsonDepthGuard(2).feed(new TextEncoder().encode('[[['))).toThrow(/nests deeper than 2 levels/);
  });

  it('skip envelope prefixes, split anywhere, and guard each message on its own', () => {
    const message = (text: string) => encodeEnvelope(0, new TextEncoder().encode(text));
    // A 123-byte message has 0x7b ("{") in its length prefix: it must not count.
    const both = new Uint8Array([...message(`[${' '.repeat(121)}]`), ...message('[[]]')]);
    const guard = new EnvelopedJsonDepthGuard(2);
    for (let i = 0; i < both.length; i += 3) guard.feed(both.subarray(i, i + 3));
    expect(() => new EnvelopedJsonDepthGuard(2).feed(message('[[[]]]'))).toThrow(/deeper than 2/);
  });
});

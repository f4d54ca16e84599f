/**
 * `gigafactory weights` through the real CLI process against a real coordinator whose SQLite file
 * holds a generated history of placements (cheap factories fail most jobs): eval reports the gain
 * of weights that stop favouring them, recommend proposes such a set, ab starts, shows and stops an
 * experiment; a bad weights file (unknown term, bad number, not a mapping, missing), bad flags and
 * thin data exit non-zero saying what was wrong.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { history } from '../support/weights-history.js';

let server: TestServer;
let address: string;
const dir = mkdtempSync(join(tmpdir(), 'gigafactory-weights-cli-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(async () => {
  server = await startTestServer();
  address = server.grpc.address;
  const decisions = history(400, 7, undefined, 'cheapfail');
  const store = server.coordinator.fleet.decisions.store;
  await store.appendDecisions(decisions);
  await store.recordOutcomes(decisions.map((d) => ({ jobId: d.jobId, epoch: d.epoch, productId: d.productId, outcome: d.outcome! })));
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('gigafactory weights', () => {
  it('eval: weights that stop favouring the failing factories gain success, with an interval above 0', async () => {
    const weights = file('no-cost.yaml', 'costClass: 0\n');
    const { code, stdout, stderr } = await cli(['--coordinator', address, '--json', 'weights', 'eval', '--product', 'cheapfail', '--weights', weights]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const res = JSON.parse(stdout) as { candidateWeights: { costClass?: number }; evaluation: { decisions: number; successRate: { change: { low: number } } } };
    expect(res.candidateWeights.costClass).toBe(0);
    expect(res.evaluation.decisions).toBe(400);
    expect(res.evaluation.successRate.change.low).toBeGreaterThan(0);

    const text = await cli(['--coordinator', address, 'weights', 'eval', '--product', 'cheapfail', '--weights', file('w.json', '{"costClass": 0}')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('400 placements with an outcome');
    expect(text.stdout).toMatch(/success rate\s+\S+%\s+\S+%\s+\+\d/);
  });

  it('recommend: proposes a set that no longer favours the failing factories', async () => {
    const { code, stdout } = await cli(['--coordinator', address, 'weights', 'recommend', '--product', 'cheapfail']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^recommended \(objective success, \d+ sets tried\)/);
  });

  it('ab: starts an experiment, shows both arms, and stops it', async () => {
    const weights = file('candidate.yaml', 'costClass: 0\nload: 5\n');
    const started = await cli(['--coordinator', address, 'weights', 'ab', '--product', 'abcli', '--weights', weights, '--fraction', '0.25']);
    expect(started.code).toBe(0);
    expect(started.stdout).toContain("25% of abcli's jobs with load=5 costClass=0");
    expect(started.stdout).toMatch(/control\s+0\s+0/);
    const stopped = await cli(['--coordinator', address, 'weights', 'ab', '--product', 'abcli', '--off']);
    expect(stopped.stdout).toBe('stopped the weights experiment of abcli\n');
    expect((await cli(['--coordinator', address, 'weights', 'ab', '--product', 'abcli'])).stdout).toBe('abcli runs no weights experiment\n');
  });

  it.each([
    ['unknown.yaml', 'costClass: 0\nspeed: 3\n', 'speed: not a scoring weight (known: priority, aging, affinity, load, fairShare, costClass)'],
    ['negative.yaml', 'load: -1\n', 'load: must be from 0 to 1000'],
    ['text.yaml', 'load: fast\n', 'load: must be a number'],
    ['list.yaml', '- load\n', 'must be a mapping of weight names to numbers'],
    ['empty.yaml', '{}\n', 'names no scoring weight'],
    ['broken.json', '{"load": ', 'is not YAML or JSON'],
  ])('refuses a bad weights file (%s) naming the problem, and sends nothing', async (name, text, message) => {
    const { code, stderr } = await cli(['--coordinator', address, 'weights', 'eval', '--product', 'cheapfail', '--weights', file(name, text)]);
    expect(code).toBe(1);
    expect(stderr).toContain(message);
  });

  it('refuses a missing file, bad flags and thin data, saying what was wrong', async () => {
    const missing = await cli(['--coordinator', address, 'weights', 'eval', '--product', 'cheapfail', '--weights', join(dir, 'nope.yaml')]);
    expect(missing.stderr).toContain('cannot read weights file');
    const fraction = await cli(['--coordinator', address, 'weights', 'ab', '--product', 'x', '--weights', file('ok.yaml', 'load: 1\n'), '--fraction', '2']);
    expect(fraction.code).toBe(2);
    expect(fraction.stderr).toContain('"2" is not a fraction');
    const both = await cli(['--coordinator', address, 'weights', 'ab', '--product', 'x', '--off', '--fraction', '0.1']);
    expect(both.stderr).toContain('--off stops the experiment');
    const half = await cli(['--coordinator', address, 'weights', 'ab', '--product', 'x', '--fraction', '0.1']);
    expect(half.stderr).toContain('needs both --weights and --fraction');
    const thin = await cli(['--coordinator', address, 'weights', 'recommend', '--product', 'empty']);
    expect(thin.code).toBe(1);
    expect(thin.stderr).toContain('a recommendation needs at least 200 placements with an outcome; there are 0 (200 more) (FailedPrecondition)');
  });
});

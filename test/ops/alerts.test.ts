/**
 * The example alerting rules only name metrics the coordinator really exports, and (when Debian's
 * promtool is installed, as .ci/run does) they pass `promtool check rules` and `promtool test rules`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestServer, type TestServer } from '../support/server.js';

const RULES = join(import.meta.dirname, '..', '..', 'src', 'server', 'prometheus-alerts.yml');
const PROMTOOL = '/usr/bin/promtool';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

it('names only metrics the coordinator exports', async () => {
  const exported = new Set(
    (await (await fetch(`${server.httpUrl}/metrics`)).text())
      .split('\n')
      .filter((l) => l.startsWith('# TYPE '))
      .map((l) => l.split(' ')[2]!),
  );
  const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
  expect(rules.length).toBeGreaterThanOrEqual(5);
  for (const rule of rules) {
    const names = rule.expr.match(/gigafactory_[a-z_]+/g) ?? [];
    for (const name of names) {
      const base = name.replace(/_(bucket|count|sum)$/, '');
      expect(exported.has(base), `${rule.alert} uses ${name}, which the coordinator does not export`).toBe(true);
    }
  }
});

it('passes promtool check and its rule unit tests', () => {
  expect(existsSync(PROMTOOL), `${PROMTOOL} is missing: .ci/run installs Debian's prometheus package`).toBe(true);
  execFileSync(PROMTOOL, ['check', 'rules', RULES], { stdio: 'pipe' });
  execFileSync(PROMTOOL, ['test', 'rules', 'prometheus-alerts.test.yml'], { cwd: join(RULES, '..'), stdio: 'pipe' });
});

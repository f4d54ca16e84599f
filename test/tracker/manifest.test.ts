import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifest } from '../../src/cli/manifest.js';
import { signEcho, verifyEchoSignature } from '../../src/coordinator/echo-signature.js';
import { createHmac } from 'node:crypto';

describe('tracker manifests', () => {
  it('applies defaults to each item, the item winning and labels merging', () => {
    const entries = parseManifest(
      `
defaults:
  product: web
  command: [./triage.sh, "{{external_id}}"]
  labels: { team: infra, size: M }
  priority: 5
  requires: [os=linux]
items:
  - id: PROJ-1
    title: Fix login
    url: https://t.example/PROJ-1
  - id: 42
    product: api
    labels: { size: S }
    priority: -1
    command: [echo, "{{title}}"]
    requires: []
`,
      'm.yaml',
    );
    expect(entries).toEqual([
      { index: 0, item: { externalId: 'PROJ-1', title: 'Fix login', url: 'https://t.example/PROJ-1', productId: 'web', commandTemplate: ['./triage.sh', '{{external_id}}'], labels: { team: 'infra', size: 'M' }, priority: 5, requires: ['os=linux'] } },
      { index: 1, item: { externalId: '42', title: '', url: '', productId: 'api', commandTemplate: ['echo', '{{title}}'], labels: { team: 'infra', size: 'S' }, priority: -1, requires: [] } },
    ]);
  });

  it('reports each bad entry with the field and why, and keeps the good ones', () => {
    const entries = parseManifest(
      `
defaults: { product: web, command: [run] }
items:
  - id: OK-1
  - title: no id
  - id: BAD-2
    priority: high
  - id: BAD-3
    colour: blue
  - id: OK-1
  - id: BAD-5
    product: ""
  - just a string
`,
      'm.yaml',
    );
    expect(entries).toEqual([
      expect.objectContaining({ index: 0, item: expect.objectContaining({ externalId: 'OK-1' }) }),
      { index: 1, externalId: '', invalid: expect.stringMatching(/^id: /) },
      { index: 2, externalId: 'BAD-2', invalid: 'priority: Invalid input: expected number, received string' },
      { index: 3, externalId: 'BAD-3', invalid: '(entry): Unrecognized key: "colour"' },
      { index: 4, externalId: 'OK-1', invalid: 'id: OK-1 is also items[0] (product web); each item may appear once' },
      { index: 5, externalId: 'BAD-5', invalid: 'product: Too small: expected string to have >=1 characters' },
      { index: 6, externalId: '', invalid: '(entry): Invalid input: expected object, received string' },
    ]);
  });

  it('needs a product and a command from the item or the defaults', () => {
    expect(parseManifest('items: [{ id: A, command: [x] }, { id: B, product: p }]', 'm.yaml')).toEqual([
      { index: 0, externalId: 'A', invalid: 'product: required (on the item or in defaults)' },
      { index: 1, externalId: 'B', invalid: 'command: required (on the item or in defaults)' },
    ]);
  });

  it.each([
    ['items: [a, b', 'manifest m.yaml: not valid YAML: '],
    ['- just\n- a list', 'manifest m.yaml: must be a mapping with "items" (a list of items) and optional "defaults"'],
    ['', 'manifest m.yaml: must be a mapping with "items" (a list of items) and optional "defaults"'],
    ['defaults: { product: web }', 'manifest m.yaml: items: Invalid input: expected array, received undefined'],
    ['items: []', 'manifest m.yaml: items: must list at least one item'],
    ['items: [{id: a}]\nitemz: []', 'manifest m.yaml: (entry): Unrecognized key: "itemz"'],
    ['defaults: { priority: 1.5 }\nitems: [{id: a}]', 'manifest m.yaml: defaults.priority: Invalid input: expected int, received number'],
  ])('refuses a malformed file as a whole: %j', (text, message) => {
    expect(() => parseManifest(text, 'm.yaml')).toThrow(ManifestError);
    expect(() => parseManifest(text, 'm.yaml')).toThrow(message);
  });
});

describe('echo signatures', () => {
  it('is sha256= and the hex HMAC-SHA256 of the raw body under the secret', () => {
    const body = '{"event_id":"job_1:2"}';
    const expected = createHmac('sha256', 'a-very-long-secret').update(body).digest('hex');
    expect(signEcho('a-very-long-secret', body)).toBe(`sha256=${expected}`);
    expect(verifyEchoSignature('a-very-long-secret', body, `sha256=${expected}`)).toBe(true);
    expect(verifyEchoSignature('another-long-secret', body, `sha256=${expected}`)).toBe(false);
    expect(verifyEchoSignature('a-very-long-secret', body + ' ', `sha256=${expected}`)).toBe(false);
    expect(verifyEchoSignature('a-very-long-secret', body, 'sha256=short')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { renderCommand, type TemplateValues } from '../../src/domain/command-template.js';
import { accept, newJob, offer } from '../../src/domain/lifecycle.js';
import { trackerIdempotencyKey, trackerItemSpec, updateFromItem, type TrackerItem } from '../../src/domain/tracker-item.js';
import { T0, TIMINGS, expectCode } from './helpers.js';

const values: TemplateValues = { external_id: 'PROJ-1', title: 'Fix "login"; rm -rf /', url: 'https://t.example/PROJ-1', product: 'web', labels: { team: 'infra', size: 'S' } };

function item(overrides: Partial<TrackerItem> = {}): TrackerItem {
  return {
    externalId: 'PROJ-1',
    title: 'Fix login',
    productId: 'web',
    labels: { team: 'infra' },
    commandTemplate: ['./triage.sh', '{{external_id}}', '--team={{labels.team}}'],
    url: 'https://t.example/PROJ-1',
    priority: 5,
    requiredLabels: [],
    ...overrides,
  };
}

describe('command templates', () => {
  it('fills every placeholder, each argument staying one argument whatever the value holds', () => {
    expect(renderCommand(['run', '{{ external_id }}', '{{title}}', '{{url}}#{{product}}', '{{labels.team}}/{{labels.size}}'], values)).toEqual([
      'run',
      'PROJ-1',
      'Fix "login"; rm -rf /',
      'https://t.example/PROJ-1#web',
      'infra/S',
    ]);
  });

  it('leaves text without placeholders alone', () => {
    expect(renderCommand(['echo', '{not one}', '{{'], values)).toEqual(['echo', '{not one}', '{{']);
  });

  it('refuses unknown placeholders, naming every one and the known ones', () => {
    const err = expectCode(() => renderCommand(['{{id}}', '{{external_id}}', '{{labels}}', '{{ nope }}'], values), 'invalid_argument');
    expect(err.message).toBe('command_template uses unknown placeholders {{id}}, {{labels}}, {{ nope }} (known: {{external_id}}, {{title}}, {{url}}, {{product}}, {{labels.KEY}})');
  });

  it('refuses a label the item does not have, naming it', () => {
    const err = expectCode(() => renderCommand(['{{labels.owner}}'], values), 'invalid_argument');
    expect(err.message).toBe('command_template uses {{labels.owner}} but the item has no label "owner"');
  });
});

describe('tracker items as job specs', () => {
  it('renders the command and keys the job by its external id', () => {
    const spec = trackerItemSpec(item());
    expect(spec.command).toEqual(['./triage.sh', 'PROJ-1', '--team=infra']);
    expect(spec.idempotencyKey).toBe(trackerIdempotencyKey('PROJ-1'));
    expect(spec.idempotencyKey).toBe('tracker:PROJ-1');
    expect(spec.tracker).toEqual({ externalId: 'PROJ-1', url: 'https://t.example/PROJ-1', labels: { team: 'infra' } });
    expect(spec.priority).toBe(5);
    expect(spec.maxAttempts).toBe(3); // defaults filled as for SubmitJob
  });

  it.each([
    [{ externalId: ' ' }, 'external_id is required'],
    [{ externalId: 'x'.repeat(201) }, 'external_id is 201 characters; at most 200'],
    [{ url: 'ftp://t.example/1' }, 'url "ftp://t.example/1" must be http or https'],
    [{ url: 'not a url' }, 'url "not a url" is not a valid URL'],
    [{ labels: { 'bad key': 'x' } }, 'labels key "bad key" must be 1-63 characters of letters, digits, ".", "_", "/" or "-"'],
    [{ commandTemplate: [] }, 'command_template must have at least one element (the program to run)'],
    [{ productId: 'Web!' }, 'product_id "Web!" must be 1-63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit'],
    [{ priority: 5000 }, 'priority 5000 must be an integer from -1000 to 1000'],
  ] as [Partial<TrackerItem>, string][])('refuses %j: %s', (overrides, message) => {
    expect(expectCode(() => trackerItemSpec(item(overrides)), 'invalid_argument').message).toBe(message);
  });
});

describe('re-ingesting an item', () => {
  const stored = () => newJob(trackerItemSpec(item()), 'job_t', T0, 'api').job;

  it('changes nothing when the item is the same (labels in another order too)', () => {
    const spec = trackerItemSpec(item({ labels: { team: 'infra' } }));
    expect(updateFromItem(stored(), spec, T0 + 1, 'api')).toBeNull();
  });

  it('updates a queued job with one compare-and-set change and an "updated" event naming the fields', () => {
    const change = updateFromItem(stored(), trackerItemSpec(item({ title: 'Fix login now', priority: 9, labels: { team: 'web' } })), T0 + 1, 'alice')!;
    expect(change.job).toMatchObject({ title: 'Fix login now', priority: 9, command: ['./triage.sh', 'PROJ-1', '--team=web'], revision: 2, stage: 'queued' });
    expect(change.job.tracker?.labels).toEqual({ team: 'web' });
    expect(change.event).toMatchObject({ kind: 'updated', actor: 'alice', fromStage: 'queued', toStage: 'queued', message: 'updated from tracker item PROJ-1: title, command, priority, tracker' });
  });

  it('leaves a job that has started alone, saying so', () => {
    const leased = offer(stored(), 'f1', T0 + 1, TIMINGS).job;
    const running = accept(leased, 'f1', 1, T0 + 2, TIMINGS).job;
    const err = expectCode(() => updateFromItem(running, trackerItemSpec(item({ title: 'changed' })), T0 + 3, 'api'), 'failed_precondition');
    expect(err.message).toBe('job job_t is running; not updated (it changes only while queued or blocked)');
    expect(updateFromItem(running, trackerItemSpec(item()), T0 + 3, 'api')).toBeNull(); // unchanged is still unchanged
  });
});

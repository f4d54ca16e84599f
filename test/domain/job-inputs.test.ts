/** DAG inputs: shape checks name the input and field; `from` resolves to a dependency's id or is refused. */
import { describe, expect, it } from 'vitest';
import { MAX_JOB_INPUTS, resolveInputs, validateInputs, type JobInput } from '../../src/domain/job-inputs.js';
import { expectCode } from './helpers.js';

const input = (overrides: Partial<JobInput> = {}): JobInput => ({ from: 'job_a', name: 'dist/app.tar', path: '', ...overrides });

function refusal(inputs: JobInput[]): string {
  return expectCode(() => validateInputs(inputs), 'invalid_argument').message;
}

describe('validateInputs', () => {
  it('fills an empty path with the name and keeps a given one', () => {
    expect(validateInputs([input(), input({ name: 'b.txt', path: 'in/b.txt' })])).toEqual([
      { from: 'job_a', name: 'dist/app.tar', path: 'dist/app.tar' },
      { from: 'job_a', name: 'b.txt', path: 'in/b.txt' },
    ]);
  });

  it.each<[string, JobInput, string]>([
    ['no from', input({ from: '' }), 'inputs[0].from is required'],
    ['from too long', input({ from: 'x'.repeat(257) }), 'inputs[0].from is 257 characters'],
    ['no name', input({ name: '' }), 'inputs[0].name: name is required'],
    ['a ".." name', input({ name: '../secret' }), 'inputs[0].name: name "../secret" must be a relative path'],
    ['an absolute path', input({ path: '/etc/passwd' }), 'inputs[0].path: name "/etc/passwd" must be a relative path'],
    ['a ".." path', input({ path: 'a/../../b' }), 'inputs[0].path'],
    ['a control character', input({ path: 'a\nb' }), 'inputs[0].path: name "a\\nb" has a control character'],
    ['a backslash', input({ name: 'a\\b' }), 'has a control character or a backslash'],
    ['the agent\'s own files', input({ path: '.gigafactory-cost' }), 'inputs[0].path ".gigafactory-cost" is reserved'],
  ])('refuses %s', (_, bad, message) => {
    expect(refusal([bad])).toContain(message);
  });

  it('refuses two inputs with one path, naming both', () => {
    expect(refusal([input({ name: 'a', path: 'x' }), input({ name: 'b', path: 'x' })])).toBe('inputs[1].path "x" is also the path of inputs[0]; each input needs its own path');
  });

  it(`refuses more than ${MAX_JOB_INPUTS} inputs`, () => {
    expect(refusal(Array.from({ length: MAX_JOB_INPUTS + 1 }, (_, i) => input({ name: `f${i}` })))).toContain(`at most ${MAX_JOB_INPUTS}`);
  });
});

describe('resolveInputs', () => {
  const deps = [
    { id: 'job_a', idempotencyKey: 'build' },
    { id: 'job_b', idempotencyKey: '' },
  ];

  it('keeps a job id and resolves an idempotency key to its job', () => {
    expect(resolveInputs([input({ from: 'job_b' }), input({ from: 'build' })], deps).map((i) => i.from)).toEqual(['job_b', 'job_a']);
  });

  it('refuses a job that is not a dependency, naming the input', () => {
    expect(expectCode(() => resolveInputs([input(), input({ from: 'job_z' })], deps), 'invalid_argument').message).toBe(
      'inputs[1].from "job_z" is not one of this job\'s dependencies: name a job in depends_on (by id or idempotency key)',
    );
  });

  it('refuses a key two dependencies share', () => {
    const twins = [...deps, { id: 'job_c', idempotencyKey: 'build' }];
    expect(expectCode(() => resolveInputs([input({ from: 'build' })], twins), 'invalid_argument').message).toContain('is the idempotency key of 2 dependencies (job_a, job_c)');
  });

  it('mentions sibling keys in AddChildren', () => {
    expect(expectCode(() => resolveInputs([input({ from: 'nope' })], [], 'children[2].inputs'), 'invalid_argument').message).toMatch(/^children\[2\]\.inputs\[0\]\.from "nope" .* or a sibling in depends_on_keys$/);
  });
});

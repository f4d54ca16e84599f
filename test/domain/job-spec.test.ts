/** Submitted job specs: defaults are filled in, and every refusal names the field that is wrong. */
import { describe, expect, it } from 'vitest';
import type { JobSpec, LabelRequirement } from '../../src/domain/job.js';
import { JOB_LIMITS, validateJobSpec } from '../../src/domain/job-spec.js';
import { expectCode, spec } from './helpers.js';

function refusal(overrides: Partial<JobSpec>): string {
  return expectCode(() => validateJobSpec(spec(overrides)), 'invalid_argument').message;
}

const label = (key: string, operator: LabelRequirement['operator'], values: string[] = []): LabelRequirement => ({ key, operator, values });

describe('validateJobSpec defaults', () => {
  it('accepts a minimal spec and fills title, max_attempts and timeout', () => {
    const out = validateJobSpec(spec({ title: '', maxAttempts: 0, timeoutMs: 0, command: ['echo', 'hi'] }));
    expect(out.title).toBe('echo hi');
    expect(out.maxAttempts).toBe(JOB_LIMITS.defaultMaxAttempts);
    expect(out.timeoutMs).toBe(JOB_LIMITS.defaultTimeoutMs);
  });

  it('does not modify its input', () => {
    const input = spec({ title: '', maxAttempts: 0 });
    validateJobSpec(input);
    expect(input.title).toBe('');
    expect(input.maxAttempts).toBe(0);
  });

  it('truncates a derived title to the limit', () => {
    const out = validateJobSpec(spec({ title: '', command: ['x'.repeat(500)] }));
    expect(out.title).toHaveLength(JOB_LIMITS.maxTitleLength);
  });

  it('accepts values at every limit', () => {
    expect(() =>
      validateJobSpec(
        spec({
          productId: 'a'.repeat(63),
          title: 't'.repeat(JOB_LIMITS.maxTitleLength),
          priority: JOB_LIMITS.maxPriority,
          idempotencyKey: 'k'.repeat(JOB_LIMITS.maxIdempotencyKeyLength),
          maxAttempts: JOB_LIMITS.maxMaxAttempts,
          timeoutMs: JOB_LIMITS.maxTimeoutMs,
          requiredLabels: Array.from({ length: JOB_LIMITS.maxLabelRequirements }, (_, i) => label(`k${i}`, 'exists')),
        }),
      ),
    ).not.toThrow();
    expect(() => validateJobSpec(spec({ priority: JOB_LIMITS.minPriority, timeoutMs: 1_000, maxAttempts: 1 }))).not.toThrow();
  });
});

describe('validateJobSpec refusals name the field', () => {
  it.each<[string, Partial<JobSpec>, string]>([
    ['missing product', { productId: '' }, 'product_id is required'],
    ['product with capitals', { productId: 'Prod' }, 'product_id "Prod"'],
    ['product starting with a dash', { productId: '-p' }, 'product_id'],
    ['product too long', { productId: 'a'.repeat(64) }, 'product_id'],
    ['no command', { command: [] }, 'command must have at least one element'],
    ['empty program', { command: ['', 'x'] }, 'command[0]'],
    ['too many arguments', { command: Array.from({ length: JOB_LIMITS.maxCommandArgs + 1 }, () => 'a') }, 'command has 1025 arguments'],
    ['command too large', { command: ['a', 'b'.repeat(JOB_LIMITS.maxCommandBytes)] }, 'command is'],
    ['title too long', { title: 't'.repeat(JOB_LIMITS.maxTitleLength + 1) }, 'title is 201 characters'],
    ['bad env name', { env: { '1X': 'v' } }, 'env name "1X"'],
    ['env name with a dash', { env: { 'A-B': 'v' } }, 'env name "A-B"'],
    ['reserved env name', { env: { GIGAFACTORY_TOKEN: 'v' } }, 'env name "GIGAFACTORY_TOKEN" is reserved'],
    [
      'too many env vars',
      { env: Object.fromEntries(Array.from({ length: JOB_LIMITS.maxEnvVars + 1 }, (_, i) => [`V${i}`, ''])) },
      'env has 257 variables',
    ],
    ['bad label key', { requiredLabels: [label('os', 'exists'), label('bad key', 'exists')] }, 'required_labels[1].key "bad key"'],
    ['empty label key', { requiredLabels: [label('', 'exists')] }, 'required_labels[0].key'],
    ['exists with values', { requiredLabels: [label('os', 'exists', ['x'])] }, 'required_labels[0]: operator exists takes no values'],
    ['not_exists with values', { requiredLabels: [label('os', 'not_exists', ['x'])] }, 'required_labels[0]: operator not_exists takes no values'],
    ['equals without a value', { requiredLabels: [label('os', 'equals')] }, 'required_labels[0]: operator equals takes exactly one value'],
    ['equals with two values', { requiredLabels: [label('os', 'equals', ['a', 'b'])] }, 'required_labels[0]: operator equals'],
    ['in without values', { requiredLabels: [label('os', 'in')] }, 'required_labels[0]: operator in needs at least one value'],
    ['not_in without values', { requiredLabels: [label('os', 'not_in')] }, 'required_labels[0]: operator not_in needs at least one value'],
    ['gte with text', { requiredLabels: [label('cpus', 'gte', ['many'])] }, 'required_labels[0]: operator gte takes exactly one numeric value'],
    ['gte with a blank value', { requiredLabels: [label('cpus', 'gte', [' '])] }, 'required_labels[0]: operator gte'],
    ['lte with two values', { requiredLabels: [label('cpus', 'lte', ['1', '2'])] }, 'required_labels[0]: operator lte'],
    ['lte without a value', { requiredLabels: [label('cpus', 'lte')] }, 'required_labels[0]: operator lte'],
    [
      'too many label requirements',
      { requiredLabels: Array.from({ length: JOB_LIMITS.maxLabelRequirements + 1 }, (_, i) => label(`k${i}`, 'exists')) },
      'required_labels has 65 entries',
    ],
    ['priority too high', { priority: JOB_LIMITS.maxPriority + 1 }, 'priority 1001'],
    ['priority too low', { priority: JOB_LIMITS.minPriority - 1 }, 'priority -1001'],
    ['fractional priority', { priority: 1.5 }, 'priority 1.5 must be an integer'],
    ['idempotency key too long', { idempotencyKey: 'k'.repeat(JOB_LIMITS.maxIdempotencyKeyLength + 1) }, 'idempotency_key is 257 characters'],
    ['negative max attempts', { maxAttempts: -1 }, 'max_attempts -1'],
    ['too many max attempts', { maxAttempts: JOB_LIMITS.maxMaxAttempts + 1 }, 'max_attempts 101'],
    ['fractional max attempts', { maxAttempts: 1.5 }, 'max_attempts 1.5'],
    ['timeout under a second', { timeoutMs: 999 }, 'timeout must be from 1s'],
    ['negative timeout', { timeoutMs: -1 }, 'timeout must be from 1s'],
    ['timeout over a week', { timeoutMs: JOB_LIMITS.maxTimeoutMs + 1 }, 'timeout must be from 1s to 604800s'],
    ['NaN timeout', { timeoutMs: Number.NaN }, 'timeout'],
  ])('%s', (_name, overrides, expected) => {
    expect(refusal(overrides)).toContain(expected);
  });
});

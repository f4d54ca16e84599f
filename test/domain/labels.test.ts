/** The hard label filter: every operator, numeric comparisons, and labels that are missing. */
import { describe, expect, it } from 'vitest';
import type { LabelOperator, LabelRequirement } from '../../src/domain/job.js';
import { firstUnmetRequirement, meetsRequirements } from '../../src/domain/labels.js';

const req = (key: string, operator: LabelOperator, ...values: string[]): LabelRequirement => ({ key, operator, values });
const LABELS = { os: 'linux', arch: 'arm64', cpus: '16', mem: ' 8 ', empty: '', note: 'fast' };

function meets(r: LabelRequirement, labels: Record<string, string> = LABELS): boolean {
  return meetsRequirements([r], labels);
}

describe('label operators', () => {
  it('equals: the label is present with exactly that value', () => {
    expect(meets(req('os', 'equals', 'linux'))).toBe(true);
    expect(meets(req('os', 'equals', 'Linux'))).toBe(false); // case-sensitive
    expect(meets(req('os', 'equals', 'windows'))).toBe(false);
    expect(meets(req('gpu', 'equals', 'linux'))).toBe(false); // missing
    expect(meets(req('empty', 'equals', ''))).toBe(true);
  });

  it('in: the label is present with one of the values', () => {
    expect(meets(req('arch', 'in', 'amd64', 'arm64'))).toBe(true);
    expect(meets(req('arch', 'in', 'amd64', 'riscv'))).toBe(false);
    expect(meets(req('gpu', 'in', 'a100', 'h100'))).toBe(false);
  });

  it('not_in: the label is missing or has none of the values', () => {
    expect(meets(req('os', 'not_in', 'windows', 'darwin'))).toBe(true);
    expect(meets(req('os', 'not_in', 'linux'))).toBe(false);
    expect(meets(req('gpu', 'not_in', 'a100'))).toBe(true); // missing counts as "not in"
  });

  it('exists / not_exists look only at presence (an empty value is present)', () => {
    expect(meets(req('os', 'exists'))).toBe(true);
    expect(meets(req('empty', 'exists'))).toBe(true);
    expect(meets(req('gpu', 'exists'))).toBe(false);
    expect(meets(req('gpu', 'not_exists'))).toBe(true);
    expect(meets(req('os', 'not_exists'))).toBe(false);
    expect(meets(req('empty', 'not_exists'))).toBe(false);
  });

  it('gte / lte compare numerically, not as text', () => {
    expect(meets(req('cpus', 'gte', '8'))).toBe(true); // "16" >= "8" as text would be false
    expect(meets(req('cpus', 'gte', '16'))).toBe(true);
    expect(meets(req('cpus', 'gte', '17'))).toBe(false);
    expect(meets(req('cpus', 'lte', '16'))).toBe(true);
    expect(meets(req('cpus', 'lte', '9'))).toBe(false);
    expect(meets(req('cpus', 'lte', '100'))).toBe(true);
    expect(meets(req('cpus', 'gte', '1.5e1'))).toBe(true);
    expect(meets(req('cpus', 'gte', '-3'))).toBe(true);
    expect(meets(req('mem', 'gte', '8'))).toBe(true); // surrounding spaces are tolerated
    expect(meets({ key: 'x', operator: 'lte', values: ['0.5'] }, { x: '0.25' })).toBe(true);
  });

  it('gte / lte fail for a missing, empty or non-numeric label', () => {
    expect(meets(req('gpu', 'gte', '1'))).toBe(false);
    expect(meets(req('gpu', 'lte', '1'))).toBe(false);
    expect(meets(req('empty', 'gte', '0'))).toBe(false); // Number('') is 0, but empty is not a number
    expect(meets(req('empty', 'lte', '0'))).toBe(false);
    expect(meets(req('note', 'gte', '0'))).toBe(false);
    expect(meets(req('note', 'lte', '0'))).toBe(false);
    expect(meets({ key: 'x', operator: 'gte', values: ['0'] }, { x: 'Infinity' })).toBe(false);
    expect(meets({ key: 'x', operator: 'gte', values: ['0'] }, { x: '   ' })).toBe(false);
  });

  it('ignores inherited properties: "toString" is not a label of {}', () => {
    expect(meets(req('toString', 'exists'), {})).toBe(false);
    expect(meets(req('constructor', 'not_exists'), {})).toBe(true);
    expect(meets(req('__proto__', 'exists'), {})).toBe(false);
  });
});

describe('requirement lists', () => {
  it('no requirements: every factory qualifies, even one without labels', () => {
    expect(meetsRequirements([], {})).toBe(true);
    expect(firstUnmetRequirement([], {})).toBeNull();
  });

  it('all requirements must hold; the first unmet one is reported', () => {
    const reqs = [req('os', 'equals', 'linux'), req('cpus', 'gte', '32'), req('gpu', 'exists')];
    expect(meetsRequirements(reqs, LABELS)).toBe(false);
    expect(firstUnmetRequirement(reqs, LABELS)).toBe(reqs[1]);
    expect(meetsRequirements(reqs.slice(0, 1), LABELS)).toBe(true);
    expect(firstUnmetRequirement(reqs.slice(0, 1), LABELS)).toBeNull();
  });
});

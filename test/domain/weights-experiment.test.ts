/** A/B arms: about the fraction of job ids land in the candidate arm, the same id always in the same arm. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { armOf, validateExperiment } from '../../src/domain/weights-experiment.js';
import { domainError } from './helpers.js';

const ids = Array.from({ length: 10_000 }, (_, i) => `job_01M88C810CF12CH5G0${i.toString(36).padStart(6, '0')}`);

describe('armOf', () => {
  it('puts about the fraction of jobs in the candidate arm, for any fraction (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1, noNaN: true }), (fraction) => {
        const share = ids.filter((id) => armOf(id, { weights: {}, fraction, startedAt: 0 }) === 'candidate').length / ids.length;
        expect(Math.abs(share - fraction)).toBeLessThan(0.02);
      }),
      { numRuns: 25 },
    );
  });

  it('keeps a job in its arm, and a larger fraction only moves jobs into the candidate arm', () => {
    const small = { weights: {}, fraction: 0.1, startedAt: 0 };
    const large = { weights: {}, fraction: 0.3, startedAt: 0 };
    for (const id of ids.slice(0, 500)) {
      expect(armOf(id, small)).toBe(armOf(id, small));
      if (armOf(id, small) === 'candidate') expect(armOf(id, large)).toBe('candidate');
    }
    expect(armOf(ids[0]!, undefined)).toBe('control');
  });
});

describe('validateExperiment', () => {
  it('refuses a fraction outside (0, 1], no weights, and unknown or out-of-range weights, naming them', () => {
    expect(domainError(() => validateExperiment({ load: 1 }, 0)).message).toContain('fraction 0 must be more than 0 and at most 1');
    expect(domainError(() => validateExperiment({ load: 1 }, Number.NaN)).message).toContain('fraction NaN');
    expect(domainError(() => validateExperiment({}, 0.5)).message).toContain('name at least one scoring weight');
    expect(domainError(() => validateExperiment({ speed: 1 }, 0.5)).message).toContain('weights.speed is not a scoring weight');
    expect(domainError(() => validateExperiment({ load: 1001 }, 0.5)).message).toContain('weights.load 1001 must be from 0 to 1000');
    expect(() => validateExperiment({ load: 1 }, 1)).not.toThrow();
  });
});

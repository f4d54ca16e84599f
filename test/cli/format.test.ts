/** The CLI's human output: text that came from jobs cannot drive the terminal, and requirements read as words. */
import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { JobSchema, LabelOperator } from '../../gen/ts/gigafactory/fleet/v1/job_pb.js';
import { jobDetails, jobsTable } from '../../src/cli/format.js';
import { printable } from '../../src/cli/format-text.js';

describe('CLI output', () => {
  it('writes control characters in job text as escapes', () => {
    const job = create(JobSchema, { id: 'job_1', title: 'evil\u001b[2J\rforged line\nnext', productId: 'p', reason: 'bell\u0007', command: ['true'] });
    for (const text of [jobsTable([job]), jobDetails(job)]) {
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(text).toContain('evil\\x1b[2J\\rforged line\\nnext');
    }
    expect(jobDetails(job)).toContain('bell\\x07');
    expect(printable('plain text — with unicode ✓')).toBe('plain text — with unicode ✓');
  });

  it('names label operators in words, not enum numbers', () => {
    const job = create(JobSchema, {
      id: 'job_2',
      requiredLabels: [
        { key: 'os', operator: LabelOperator.EQUALS, values: ['linux'] },
        { key: 'gpu', operator: LabelOperator.EXISTS, values: [] },
        { key: 'zone', operator: LabelOperator.NOT_IN, values: ['a', 'b'] },
      ],
    });
    expect(jobDetails(job)).toMatch(/^labels +os equals linux; gpu exists; zone not in a,b$/m);
  });
});

/** The hard label filter: does a factory with these labels satisfy a job's requirements? */
import type { LabelRequirement } from './job.js';

/** The first requirement the labels fail, or null when all pass. */
export function firstUnmetRequirement(
  requirements: readonly LabelRequirement[],
  labels: Readonly<Record<string, string>>,
): LabelRequirement | null {
  return requirements.find((r) => !meets(r, labels)) ?? null;
}

export function meetsRequirements(requirements: readonly LabelRequirement[], labels: Readonly<Record<string, string>>): boolean {
  return firstUnmetRequirement(requirements, labels) === null;
}

function meets(req: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const value = Object.hasOwn(labels, req.key) ? labels[req.key] : undefined;
  switch (req.operator) {
    case 'exists':
      return value !== undefined;
    case 'not_exists':
      return value === undefined;
    case 'equals':
    case 'in':
      return value !== undefined && req.values.includes(value);
    case 'not_in':
      return value === undefined || !req.values.includes(value);
    case 'gte':
    case 'lte': {
      if (value === undefined || value.trim() === '') return false;
      const have = Number(value);
      const want = Number(req.values[0]);
      if (!Number.isFinite(have)) return false;
      return req.operator === 'gte' ? have >= want : have <= want;
    }
  }
}

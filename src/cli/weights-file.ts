/**
 * A weights file for `gigafactory weights eval|ab`: YAML or JSON, a mapping of scoring weight names
 * to numbers (`costClass: 0`, `load: 5`), checked with zod so an unknown term or a bad number is
 * named before anything is sent.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { MAX_WEIGHT, WEIGHT_NAMES, type SchedulingWeights } from '../domain/scheduler.js';

const weight = z.number({ error: 'must be a number' }).finite().min(0, `must be from 0 to ${MAX_WEIGHT}`).max(MAX_WEIGHT, `must be from 0 to ${MAX_WEIGHT}`);
const WeightsFileSchema = z
  .object(Object.fromEntries(WEIGHT_NAMES.map((name) => [name, weight.optional()])) as Record<(typeof WEIGHT_NAMES)[number], z.ZodOptional<typeof weight>>)
  .strict();

/** The file's weights; an Error naming the file and every problem in it otherwise. */
export function readWeightsFile(path: string): Partial<SchedulingWeights> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read weights file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseWeights(text, path);
}

export function parseWeights(text: string, path: string): Partial<SchedulingWeights> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new Error(`weights file ${path} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`weights file ${path} must be a mapping of weight names to numbers, e.g. "costClass: 0" (known: ${WEIGHT_NAMES.join(', ')})`);
  const checked = WeightsFileSchema.safeParse(doc);
  if (!checked.success) {
    const problems = checked.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys' ? `${issue.keys.join(', ')}: not a scoring weight (known: ${WEIGHT_NAMES.join(', ')})` : `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new Error(`weights file ${path}: ${problems.join('; ')}`);
  }
  const weights = Object.fromEntries(Object.entries(checked.data).filter(([, v]) => v !== undefined)) as Partial<SchedulingWeights>;
  if (Object.keys(weights).length === 0) throw new Error(`weights file ${path} names no scoring weight (known: ${WEIGHT_NAMES.join(', ')})`);
  return weights;
}

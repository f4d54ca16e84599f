/**
 * Tracker manifests for `gigafactory ingest`: a YAML file of defaults and items. The file as a whole
 * must have the right shape (or nothing is sent); each entry is checked on its own, so one bad entry
 * is reported as invalid and the others still go. The coordinator checks the rest (placeholders,
 * label syntax, limits) and reports per item too.
 *
 *   defaults:                      # all optional; an item's own value wins (labels are merged)
 *     product: web
 *     command: [./triage.sh, "{{external_id}}", "{{labels.team}}"]
 *     labels: { team: infra }
 *     priority: 5
 *     requires: [os=linux]         # factory label requirements, as `submit --label`
 *   items:
 *     - id: PROJ-1                 # the tracker's id (required)
 *       title: Fix the login page
 *       url: https://tracker.example/PROJ-1
 */
import { parse } from 'yaml';
import { z } from 'zod';

const labels = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));
const fields = {
  product: z.string().min(1),
  command: z.array(z.union([z.string(), z.number()]).transform(String)).min(1),
  labels,
  priority: z.number().int(),
  requires: z.array(z.string().min(1)),
};

const DefaultsSchema = z.object(fields).partial().strict();
const ItemSchema = z
  .object({
    id: z.union([z.string().min(1), z.number()]).transform(String),
    title: z.string().optional(),
    url: z.string().optional(),
    ...z.object(fields).partial().shape,
  })
  .strict();
const ManifestSchema = z
  .object({
    defaults: DefaultsSchema.optional(),
    items: z.array(z.unknown()).min(1, 'must list at least one item'),
  })
  .strict();

/** One entry, with the defaults applied. */
export interface ManifestItem {
  externalId: string;
  title: string;
  url: string;
  productId: string;
  commandTemplate: string[];
  labels: Record<string, string>;
  priority: number;
  requires: string[];
}

/** An entry as the file has it: valid (with defaults applied) or not, with why. */
export type ManifestEntry = { index: number; item: ManifestItem } | { index: number; externalId: string; invalid: string };

/** The file cannot be used at all: not YAML, or not the manifest's shape. Nothing is sent. */
export class ManifestError extends Error {
  constructor(path: string, problem: string) {
    super(`manifest ${path}: ${problem}`);
    this.name = 'ManifestError';
  }
}

/** Parses and checks a manifest; throws ManifestError when the file as a whole is unusable. */
export function parseManifest(text: string, path: string): ManifestEntry[] {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ManifestError(path, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ManifestError(path, 'must be a mapping with "items" (a list of items) and optional "defaults"');
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) throw new ManifestError(path, describe(parsed.error.issues));
  const defaults = parsed.data.defaults ?? {};
  const seen = new Map<string, number>();
  return parsed.data.items.map((entry, index): ManifestEntry => {
    const externalId = idOf(entry);
    const checked = ItemSchema.safeParse(entry);
    if (!checked.success) return { index, externalId, invalid: describe(checked.error.issues) };
    const e = checked.data;
    const productId = e.product ?? defaults.product;
    const commandTemplate = e.command ?? defaults.command;
    if (!productId) return { index, externalId, invalid: 'product: required (on the item or in defaults)' };
    if (!commandTemplate) return { index, externalId, invalid: 'command: required (on the item or in defaults)' };
    const key = `${productId}\u0000${e.id}`;
    const first = seen.get(key);
    if (first !== undefined) return { index, externalId, invalid: `id: ${e.id} is also items[${first}] (product ${productId}); each item may appear once` };
    seen.set(key, index);
    return {
      index,
      item: {
        externalId: e.id,
        title: e.title ?? '',
        url: e.url ?? '',
        productId,
        commandTemplate,
        labels: { ...defaults.labels, ...e.labels },
        priority: e.priority ?? defaults.priority ?? 0,
        requires: e.requires ?? defaults.requires ?? [],
      },
    };
  });
}

/** zod issues as "field: problem; field: problem". */
function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(entry)'}: ${issue.message}`).join('; ');
}

/** The entry's id for the report, even when the entry is invalid. */
function idOf(entry: unknown): string {
  const id = (entry as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : '';
}

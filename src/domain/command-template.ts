/**
 * Command templates for tracker items: an argv array whose elements may hold placeholders such as
 * `{{external_id}}` or `{{labels.team}}`. Each element stays one argument whatever the values hold
 * (no shell, no splitting), so a title with spaces or quotes cannot inject anything.
 */
import { invalidArgument } from './errors.js';

/** What a template may refer to. */
export interface TemplateValues {
  external_id: string;
  title: string;
  url: string;
  product: string;
  labels: Record<string, string>;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const SCALARS = ['external_id', 'title', 'url', 'product'] as const;
const KNOWN = [...SCALARS.map((n) => `{{${n}}}`), '{{labels.KEY}}'].join(', ');

/**
 * Renders every element of `template`. Throws INVALID_ARGUMENT naming every unknown placeholder, or
 * every label the item does not have, so one round trip tells the author all that is wrong.
 */
export function renderCommand(template: readonly string[], values: TemplateValues): string[] {
  const unknown = new Set<string>();
  const missingLabels = new Set<string>();
  const rendered = template.map((arg) =>
    arg.replace(PLACEHOLDER, (whole, name: string) => {
      if ((SCALARS as readonly string[]).includes(name)) return values[name as (typeof SCALARS)[number]];
      if (name.startsWith('labels.') && name.length > 'labels.'.length) {
        const key = name.slice('labels.'.length);
        if (Object.hasOwn(values.labels, key)) return values.labels[key]!;
        missingLabels.add(key);
        return whole;
      }
      unknown.add(whole);
      return whole;
    }),
  );
  if (unknown.size > 0) {
    throw invalidArgument(`command_template uses unknown placeholder${unknown.size > 1 ? 's' : ''} ${[...unknown].join(', ')} (known: ${KNOWN})`);
  }
  if (missingLabels.size > 0) {
    const keys = [...missingLabels];
    throw invalidArgument(`command_template uses ${keys.map((k) => `{{labels.${k}}}`).join(', ')} but the item has no label ${keys.map((k) => `"${k}"`).join(', ')}`);
  }
  return rendered;
}

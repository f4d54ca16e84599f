/** Reads a configuration file (YAML, or JSON which is YAML too) into settings by name. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export function readConfigFile(path: string): { path: string; values: Record<string, unknown> } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let values: unknown;
  try {
    values = parse(text);
  } catch (err) {
    throw new Error(`config file ${path} is not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (values === null || values === undefined) return { path, values: {} };
  if (typeof values !== 'object' || Array.isArray(values)) throw new Error(`config file ${path} must hold a mapping of setting names to values`);
  return { path, values: values as Record<string, unknown> };
}

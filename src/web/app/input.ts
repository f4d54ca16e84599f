/** Parsing what operators type into forms: command lines and label requirements. */
import { LabelOperator } from '../../../gen/ts/gigafactory/fleet/v1/job_pb.js';

/**
 * Splits a command line into argv the way a POSIX shell would for plain words and quotes (no
 * variables, globs or pipes: the command runs without a shell).
 */
export function splitCommand(text: string): string[] {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`The command has an unterminated ${quote === '"' ? 'double' : 'single'} quote.`);
  if (inWord) argv.push(word);
  return argv;
}

export interface RequirementInput {
  key: string;
  operator: LabelOperator;
  values: string[];
}

/** One requirement in the CLI's syntax: key=value, key=a|b, key!=v, key>=n, key<=n, key, !key. */
export function parseRequirement(text: string): RequirementInput {
  let m: RegExpMatchArray | null;
  const req = (key: string, operator: LabelOperator, values: string[]): RequirementInput => ({ key: key.trim(), operator, values });
  if ((m = text.match(/^([^!<>=]+)>=(.+)$/))) return req(m[1]!, LabelOperator.GREATER_OR_EQUAL, [m[2]!]);
  if ((m = text.match(/^([^!<>=]+)<=(.+)$/))) return req(m[1]!, LabelOperator.LESS_OR_EQUAL, [m[2]!]);
  if ((m = text.match(/^([^!<>=]+)!=(.+)$/))) return req(m[1]!, LabelOperator.NOT_IN, m[2]!.split('|'));
  if ((m = text.match(/^([^!<>=]+)=(.+)$/))) {
    const values = m[2]!.split('|');
    return req(m[1]!, values.length > 1 ? LabelOperator.IN : LabelOperator.EQUALS, values);
  }
  if ((m = text.match(/^!([^!<>=]+)$/))) return req(m[1]!, LabelOperator.NOT_EXISTS, []);
  if ((m = text.match(/^([^!<>=]+)$/))) return req(m[1]!, LabelOperator.EXISTS, []);
  throw new Error(`The label requirement "${text}" must look like key=value, key=a|b, key!=value, key>=n, key<=n, key or !key.`);
}

/** Requirements separated by commas or spaces. */
export function parseRequirements(text: string): RequirementInput[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(parseRequirement);
}

/** A random idempotency key (crypto.randomUUID needs a secure context; this does not). */
export function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

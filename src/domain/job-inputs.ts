/**
 * DAG inputs: artifacts of a job's dependencies that the factory fetches into the job's work dir
 * before its command starts. Pure rules: what a well-formed input is, and how the `from` a client
 * wrote (a dependency's id or idempotency key, or an AddChildren sibling's key) becomes the job id
 * stored on the job, which must be one of the job's dependencies.
 */
import { checkArtifactName } from './artifact.js';
import { forItem, invalidArgument } from './errors.js';

/** One input: the artifact `name` of job `from`, placed at `path` under the work dir. */
export interface JobInput {
  /** On a stored job, the dependency's job id; in a request, also an idempotency key. */
  from: string;
  name: string;
  /** Relative to the work dir; equal to name when the request left it empty. */
  path: string;
}

export const MAX_JOB_INPUTS = 100;
/** A `from` is a job id or an idempotency key; both are bounded below this. */
const MAX_FROM_LENGTH = 256;
/** The agent's own files in the work dir (the cost file and its notice): an input may not replace them. */
const RESERVED_PATH_PREFIX = '.gigafactory';

/** Checks the shape of every input and fills empty paths; membership is resolveInputs' job. */
export function validateInputs(inputs: readonly JobInput[]): JobInput[] {
  if (inputs.length > MAX_JOB_INPUTS) throw invalidArgument(`inputs has ${inputs.length} entries; at most ${MAX_JOB_INPUTS}`);
  const byPath = new Map<string, number>();
  return inputs.map((input, i) => {
    const where = `inputs[${i}]`;
    if (!input.from) throw invalidArgument(`${where}.from is required: a dependency's job id or idempotency key`);
    if (input.from.length > MAX_FROM_LENGTH) throw invalidArgument(`${where}.from is ${input.from.length} characters; at most ${MAX_FROM_LENGTH}`);
    const name = forItem(`${where}.name`, () => checkArtifactName(input.name));
    const path = input.path ? forItem(`${where}.path`, () => checkArtifactName(input.path)) : name;
    if (path.split('/')[0]!.startsWith(RESERVED_PATH_PREFIX)) {
      throw invalidArgument(`${where}.path "${path.slice(0, 60)}" is reserved: names starting with "${RESERVED_PATH_PREFIX}" are the agent's files`);
    }
    const clash = byPath.get(path);
    if (clash !== undefined) throw invalidArgument(`${where}.path "${path.slice(0, 60)}" is also the path of inputs[${clash}]; each input needs its own path`);
    byPath.set(path, i);
    return { from: input.from, name, path };
  });
}

/** A job the new job waits for, as an input's `from` may name it. */
export interface InputSource {
  id: string;
  /** Its idempotency key ('' when it has none). */
  idempotencyKey: string;
}

/**
 * Resolves each input's `from` to the id of one of `dependencies`: by id first, then by idempotency
 * key (refused when two dependencies share the key). Anything else is refused, naming the input.
 */
export function resolveInputs(inputs: readonly JobInput[], dependencies: readonly InputSource[], field = 'inputs'): JobInput[] {
  return inputs.map((input, i) => {
    const where = `${field}[${i}].from`;
    if (dependencies.some((dep) => dep.id === input.from)) return input;
    const keyed = dependencies.filter((dep) => dep.idempotencyKey !== '' && dep.idempotencyKey === input.from);
    if (keyed.length === 1) return { ...input, from: keyed[0]!.id };
    const quoted = JSON.stringify(input.from.length > 60 ? `${input.from.slice(0, 60)}…` : input.from);
    if (keyed.length > 1) throw invalidArgument(`${where} ${quoted} is the idempotency key of ${keyed.length} dependencies (${keyed.map((d) => d.id).join(', ')}); name one by its job id`);
    throw invalidArgument(`${where} ${quoted} is not one of this job's dependencies: name a job in depends_on (by id or idempotency key)${field.startsWith('children') ? ' or a sibling in depends_on_keys' : ''}`);
  });
}

/**
 * Before a job's command starts, the artifacts its dependencies produced that it names as inputs
 * (JobInput) are fetched into its work dir. Any input that cannot be fetched fails the attempt,
 * with a reason naming the input: a job must not run on missing inputs.
 */
import path from 'node:path';
import { ArtifactKind } from '../gen/ts/gigafactory/fleet/v1/artifact_pb.js';
import type { JobInput } from '../gen/ts/gigafactory/fleet/v1/job_inputs_pb.js';
import { fetchArtifactToFile, type FetchChannel } from './artifact-fetch.js';

export interface InputFetchTarget {
  factoryId: string;
  jobId: string;
  epoch: bigint;
  /** The attempt's work dir; every input lands under it. */
  workspace: string;
}

/** Fetches every input in order; rejects with the first failure's reason. */
export async function fetchInputs(channel: FetchChannel, inputs: readonly JobInput[], target: InputFetchTarget, signal?: AbortSignal): Promise<void> {
  for (const [i, input] of inputs.entries()) {
    const dest = inputPath(target.workspace, input.path || input.name);
    try {
      await fetchArtifactToFile(
        channel,
        {
          factoryId: target.factoryId,
          jobId: target.jobId,
          epoch: target.epoch,
          sourceJobId: input.from,
          sourceEpoch: 0n,
          kind: ArtifactKind.ARTIFACT,
          name: input.name,
        },
        dest,
        signal,
      );
    } catch (err) {
      throw new Error(`input ${i} ("${input.name}" of job ${input.from}) could not be fetched: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/**
 * Where an input goes. The coordinator checked the path (relative, no ".." parts); the agent checks
 * again that it stays inside the work dir, since a file written elsewhere could replace its own.
 */
export function inputPath(workspace: string, relative: string): string {
  const dest = path.resolve(workspace, ...relative.split('/'));
  if (path.isAbsolute(relative) || !dest.startsWith(path.resolve(workspace) + path.sep)) throw new Error(`input path "${relative}" leaves the work dir`);
  return dest;
}

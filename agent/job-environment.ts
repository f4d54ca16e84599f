/**
 * What a job sees of the machine: its own spec's env, a short allow-list of the agent's variables,
 * the ones the operator passes through by name (`--pass-env`), and its GIGAFACTORY_* variables.
 * Nothing else of the agent's environment reaches a job: not its factory token
 * (GIGAFACTORY_FACTORY_TOKEN, GIGAFACTORY_ENROLL_TOKEN), not cloud credentials it was started with.
 */

/**
 * Passed to every job when the agent has them. The Windows names are what programs there fail
 * without (the system directory, the shell, executable extensions, a temp dir).
 */
export const ALLOWED_AGENT_ENV: readonly string[] =
  process.platform === 'win32' ? ['PATH', 'HOME', 'LANG', 'SystemRoot', 'ComSpec', 'PATHEXT', 'TEMP', 'TMP', 'USERPROFILE'] : ['PATH', 'HOME', 'LANG'];

/** A `--pass-env` name: an environment variable's name, nothing a shell would expand. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkPassEnvName(name: string): string {
  if (!ENV_NAME.test(name)) throw new Error(`--pass-env "${name}" is not an environment variable name (letters, digits and _, not starting with a digit)`);
  return name;
}

export interface JobEnvironmentInput {
  jobId: string;
  epoch: bigint;
  factoryId: string;
  /** The attempt's working directory (also HOME when the job runs as another user). */
  workspace: string;
  /** GIGAFACTORY_CHECKPOINT_DIR: what the job saves here is uploaded, and restored into its next attempt. */
  checkpointDir: string;
  costFile: string;
  /** Where the agent writes the cost notice (near the ceiling). */
  costNoticeFile: string;
  /** Files written here are uploaded as the attempt's artifacts when it ends. */
  artifactsDir: string;
  /** The attempt's signed lease token ('' from a coordinator too old to send one). */
  leaseToken: string;
  /** The job spec's own variables: they win over the agent's. */
  specEnv: Readonly<Record<string, string>>;
  /** Names of the agent's variables the operator passes through. */
  passEnv: readonly string[];
  /** Whether the job runs as another user than the agent: then HOME is its workspace, not the agent's home. */
  otherUser: boolean;
}

/** The job's whole environment. The GIGAFACTORY_* variables come last: a spec cannot forge them. */
export function jobEnvironment(input: JobEnvironmentInput, agentEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...ALLOWED_AGENT_ENV, ...input.passEnv]) {
    const value = agentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  if (input.otherUser) env.HOME = input.workspace;
  return {
    ...env,
    ...input.specEnv,
    GIGAFACTORY_JOB_ID: input.jobId,
    GIGAFACTORY_EPOCH: String(input.epoch),
    GIGAFACTORY_FACTORY_ID: input.factoryId,
    GIGAFACTORY_CHECKPOINT_DIR: input.checkpointDir,
    GIGAFACTORY_WORK_DIR: input.workspace,
    GIGAFACTORY_COST_FILE: input.costFile,
    GIGAFACTORY_COST_NOTICE_FILE: input.costNoticeFile,
    GIGAFACTORY_ARTIFACTS_DIR: input.artifactsDir,
    GIGAFACTORY_LEASE_TOKEN: input.leaseToken,
  };
}

/**
 * What a service definition says, whatever the platform: which program runs the agent with which
 * arguments, as whom, where, and how long a stop may take. The platform modules (systemd.ts,
 * launchd.ts, windows.ts) only render it in their own syntax.
 */
export interface ServiceSpec {
  /** The service's name: the unit, the launchd label's suffix, the Windows service. */
  name: string;
  /** Absolute path of node, and of the agent's bundle. */
  node: string;
  script: string;
  /** The agent's arguments after the script (global options, `run` and its options). */
  args: string[];
  /** The account the agent runs as; absent: the platform's default (root, SYSTEM). */
  user?: string;
  workDir: string;
  /** How long the agent may drain on stop, in seconds; the service manager waits a little longer. */
  drainTimeoutS: number;
}

/**
 * After the drain timeout the agent stops the remaining jobs (10 s from SIGTERM to SIGKILL) and waits
 * up to 5 s for the coordinator's goodbye: the service manager must not kill it before that.
 */
export const STOP_MARGIN_S = 30;

/** The whole command line, program first. */
export function commandLine(spec: ServiceSpec): string[] {
  return [spec.node, spec.script, ...spec.args];
}

/** What each platform renders and how it starts and stops the service. */
export interface ServicePlatform {
  /** As --platform names it. */
  id: 'linux' | 'macos' | 'windows';
  /** The Node.js platform on which start and stop commands can run. */
  host: NodeJS.Platform;
  defaultWorkDir: string;
  /** Where the definition is written. */
  definitionPath(spec: Pick<ServiceSpec, 'name' | 'workDir'>): string;
  render(spec: ServiceSpec): string;
  /** Commands that load and start the written definition, then stop and unload it. */
  startCommands(spec: Pick<ServiceSpec, 'name' | 'workDir'>): string[][];
  stopCommands(spec: Pick<ServiceSpec, 'name' | 'workDir'>): string[][];
  /** Where the agent's log lines can be read. */
  logsHint(spec: Pick<ServiceSpec, 'name' | 'workDir'>): string;
}

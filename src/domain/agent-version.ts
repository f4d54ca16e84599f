/**
 * The agent compatibility window: a coordinator works with agents of its own major version that are
 * at most AGENT_WINDOW_MINOR_VERSIONS minor versions older than itself (newer ones too). Before 1.0
 * every minor version may break (semver), so a 0.y coordinator's window is 0.y itself. An older
 * agent may lack a message the coordinator relies on; it is flagged, not refused, so a fleet can be
 * upgraded one factory at a time.
 */
export const AGENT_WINDOW_MINOR_VERSIONS = 2;

export type AgentSupport = 'supported' | 'outdated' | 'unknown';

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/;

function parse(version: string): [number, number, number] | null {
  const m = SEMVER.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** The oldest agent version within the window of `coordinatorVersion`. */
export function oldestSupportedAgentVersion(coordinatorVersion: string): string {
  const v = parse(coordinatorVersion);
  if (!v) throw new Error(`coordinator version "${coordinatorVersion}" is not MAJOR.MINOR.PATCH`);
  return v[0] === 0 ? `0.${v[1]}.0` : `${v[0]}.${Math.max(0, v[1] - AGENT_WINDOW_MINOR_VERSIONS)}.0`;
}

export function agentSupport(agentVersion: string, coordinatorVersion: string): AgentSupport {
  const agent = parse(agentVersion);
  if (!agent) return 'unknown';
  const oldest = parse(oldestSupportedAgentVersion(coordinatorVersion))!;
  for (let i = 0; i < 3; i++) if (agent[i] !== oldest[i]) return agent[i]! > oldest[i]! ? 'supported' : 'outdated';
  return 'supported';
}

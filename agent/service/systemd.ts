/** The agent as a systemd service on Linux: a unit in /etc/systemd/system, logs in the journal. */
import { commandLine, STOP_MARGIN_S, type ServicePlatform, type ServiceSpec } from './spec.js';

export const systemd: ServicePlatform = {
  id: 'linux',
  host: 'linux',
  defaultWorkDir: '/var/lib/gigafactory-agent',
  definitionPath: (spec) => `/etc/systemd/system/${spec.name}.service`,
  render: systemdUnit,
  startCommands: (spec) => [
    ['systemctl', 'daemon-reload'],
    ['systemctl', 'enable', '--now', `${spec.name}.service`],
  ],
  stopCommands: (spec) => [['systemctl', 'disable', '--now', `${spec.name}.service`]],
  logsHint: (spec) => `journalctl -u ${spec.name} -f`,
};

export function systemdUnit(spec: ServiceSpec): string {
  return [
    '[Unit]',
    `Description=Gigafactory factory agent (${spec.name})`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    ...(spec.user ? [`User=${spec.user}`] : []),
    `WorkingDirectory=${spec.workDir}`,
    `ExecStart=${commandLine(spec).map(quote).join(' ')}`,
    // A crash or a lost enrollment restarts it; a clean exit (drained or revoked by an operator) does not.
    'Restart=on-failure',
    'RestartSec=5',
    // SIGTERM to the agent alone: it drains, and stops its jobs' process groups itself. Whatever is
    // left when the stop timeout runs out is killed.
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${Math.ceil(spec.drainTimeoutS) + STOP_MARGIN_S}`,
    'StandardOutput=journal',
    'StandardError=journal',
    `SyslogIdentifier=${spec.name}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** One ExecStart word: quoted when needed; `%` and `$` are systemd specifiers, doubled to be literal. */
function quote(word: string): string {
  const literal = word.replaceAll('%', '%%').replaceAll('$', '$$$$');
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(literal) ? literal : `"${literal.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

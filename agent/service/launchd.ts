/**
 * The agent as a launchd daemon on macOS: a property list in /Library/LaunchDaemons. launchd sends
 * no daemon's output to the unified log, so it goes to a file under /Library/Logs, which Console.app
 * lists under Log Reports.
 */
import { commandLine, STOP_MARGIN_S, type ServicePlatform, type ServiceSpec } from './spec.js';

const label = (name: string): string => `dev.gigafactory.${name}`;
const plistPath = (name: string): string => `/Library/LaunchDaemons/${label(name)}.plist`;
const logPath = (name: string): string => `/Library/Logs/${name}.log`;

export const launchd: ServicePlatform = {
  id: 'macos',
  host: 'darwin',
  defaultWorkDir: '/Library/Application Support/gigafactory-agent',
  definitionPath: (spec) => plistPath(spec.name),
  render: launchdPlist,
  startCommands: (spec) => [['launchctl', 'bootstrap', 'system', plistPath(spec.name)]],
  stopCommands: (spec) => [['launchctl', 'bootout', `system/${label(spec.name)}`]],
  logsHint: (spec) => `tail -f ${logPath(spec.name)}`,
};

export function launchdPlist(spec: ServiceSpec): string {
  const string = (value: string): string => `<string>${escapeXml(value)}</string>`;
  const entries: [string, string][] = [
    ['Label', string(label(spec.name))],
    ['ProgramArguments', `<array>\n${commandLine(spec).map((arg) => `    ${string(arg)}`).join('\n')}\n  </array>`],
    ...(spec.user ? ([['UserName', string(spec.user)]] as [string, string][]) : []),
    ['WorkingDirectory', string(spec.workDir)],
    ['RunAtLoad', '<true/>'],
    // Restarted when it exits unsuccessfully; a clean exit (drained or revoked by an operator) stays down.
    ['KeepAlive', '<dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>'],
    ['ThrottleInterval', '<integer>5</integer>'],
    // launchd sends SIGTERM on bootout, then SIGKILL after this many seconds: leave room to drain.
    ['ExitTimeOut', `<integer>${Math.ceil(spec.drainTimeoutS) + STOP_MARGIN_S}</integer>`],
    ['StandardOutPath', string(logPath(spec.name))],
    ['StandardErrorPath', string(logPath(spec.name))],
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    ...entries.map(([key, value]) => `  <key>${key}</key>\n  ${value}`),
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

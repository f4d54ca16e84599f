/**
 * The agent as a Windows service through NSSM (https://nssm.cc): Node.js cannot answer the Service
 * Control Manager itself, so `sc.exe create` alone would make a service that fails to start. The
 * definition is a .cmd script of `nssm` calls, written into the work dir and run from an elevated
 * prompt. NSSM records starts, stops and failures in the Application event log; the agent's own
 * lines go to a rotated file in the work dir.
 */
import { commandLine, STOP_MARGIN_S, type ServicePlatform, type ServiceSpec } from './spec.js';

const scriptPath = (workDir: string, file: string): string => `${workDir}\\${file}`;

export const windowsService: ServicePlatform = {
  id: 'windows',
  host: 'win32',
  defaultWorkDir: 'C:\\ProgramData\\gigafactory-agent',
  definitionPath: (spec) => scriptPath(spec.workDir, 'install-service.cmd'),
  render: nssmScript,
  startCommands: (spec) => [['cmd.exe', '/c', scriptPath(spec.workDir, 'install-service.cmd')]],
  stopCommands: (spec) => [
    ['nssm', 'stop', spec.name],
    ['nssm', 'remove', spec.name, 'confirm'],
  ],
  logsHint: (spec) => `${spec.workDir}\\agent.log (service events: Event Viewer, Windows Logs > Application, source nssm)`,
};

export function nssmScript(spec: ServiceSpec): string {
  const [program, ...args] = commandLine(spec);
  const set = (...words: string[]): string => ['nssm', 'set', spec.name, ...words].map(quote).join(' ');
  return [
    '@echo off',
    `rem Gigafactory factory agent (${spec.name}) as a Windows service through NSSM. Run in an elevated prompt.`,
    'setlocal',
    ['nssm', 'install', spec.name, program!].map(quote).join(' '),
    set('AppParameters', args.map(quote).join(' ')),
    set('AppDirectory', spec.workDir),
    set('DisplayName', `Gigafactory factory agent (${spec.name})`),
    set('Start', 'SERVICE_AUTO_START'),
    ...(spec.user ? [set('ObjectName', spec.user)] : []),
    // Stop: Ctrl+C (the agent drains on it) and wait; only then the window and the process are killed.
    set('AppStopMethodConsole', String((Math.ceil(spec.drainTimeoutS) + STOP_MARGIN_S) * 1_000)),
    // Restart after a crash; a clean exit (drained or revoked by an operator) stays down.
    set('AppExit', 'Default', 'Restart'),
    set('AppExit', '0', 'Exit'),
    set('AppRestartDelay', '5000'),
    set('AppStdout', `${spec.workDir}\\agent.log`),
    set('AppStderr', `${spec.workDir}\\agent.log`),
    set('AppRotateFiles', '1'),
    set('AppRotateBytes', '10485760'),
    // The token files: only SYSTEM and Administrators (and the service account) may read them.
    ...['enroll-token', 'factory-token'].map(
      (file) => `if exist ${quote(`${spec.workDir}\\${file}`)} icacls ${quote(`${spec.workDir}\\${file}`)} /inheritance:r /grant:r SYSTEM:F Administrators:F${spec.user ? ` ${quote(`${spec.user}:R`)}` : ''}`,
    ),
    ['nssm', 'start', spec.name].map(quote).join(' '),
    '',
  ].join('\r\n');
}

/** A cmd.exe word: quoted when it has spaces or specials; `"` inside is doubled, `%` escaped. */
function quote(word: string): string {
  const escaped = word.replaceAll('%', '%%');
  return /^[A-Za-z0-9_./:\\=,+-]+$/.test(escaped) ? escaped : `"${escaped.replaceAll('"', '""')}"`;
}

/**
 * How a new factory gets the agent: one line per platform that installs the packaged agent (the
 * tarball of `npm run build:agent`, wherever the operator hosts it) and installs and starts it as a
 * service enrolled with a one-time token. `gigafactory enroll-command` and the web UI's
 * enrollment-token screen both print these lines, so they cannot drift apart.
 */
export interface InstallLineOptions {
  /** The coordinator's gRPC address as the factory reaches it. */
  coordinator: string;
  enrollToken: string;
  /** Absent: the agent's default, the machine's host name. */
  factoryId?: string;
  /** A URL or path npm can install the agent tarball from. */
  packageSource: string;
}

export interface InstallLine {
  platform: 'linux' | 'macos' | 'windows';
  /** Where to paste it. */
  where: string;
  line: string;
}

export const agentPackageFile = (version: string): string => `gigafactory-agent-${version}.tgz`;

export function agentInstallLines(o: InstallLineOptions): InstallLine[] {
  const service = (quote: (word: string) => string): string =>
    ['gigafactory-agent', '--coordinator', o.coordinator, 'install-service', ...(o.factoryId ? ['--id', o.factoryId] : []), '--enroll-token', o.enrollToken].map(quote).join(' ');
  const posix = `sudo npm install -g ${posixQuote(o.packageSource)} && sudo ${service(posixQuote)}`;
  return [
    { platform: 'linux', where: 'Linux (systemd), in a shell', line: posix },
    { platform: 'macos', where: 'macOS (launchd), in Terminal', line: posix },
    { platform: 'windows', where: 'Windows, in an elevated Command Prompt with NSSM on PATH', line: `npm install -g ${cmdQuote(o.packageSource)} && ${service(cmdQuote)}` },
  ];
}

function posixQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function cmdQuote(word: string): string {
  return /^[A-Za-z0-9_./:\\=@,+-]+$/.test(word) ? word : `"${word.replaceAll('"', '""')}"`;
}

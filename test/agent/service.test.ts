/**
 * `gigafactory-agent install-service` / `uninstall-service` for each platform, written under a temp
 * root: the systemd unit passes `systemd-analyze verify`, the launchd plist parses (Python's
 * plistlib) with the keys launchd needs, the NSSM script sets what a drain needs; the token lands in
 * a mode-0600 file and never in a definition; uninstall removes the definition and keeps the token.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const MAIN = join(import.meta.dirname, '..', '..', 'agent', 'main.ts');
const root = mkdtempSync(join(tmpdir(), 'gigafactory-service-'));
const SCRIPT = '/opt/gigafactory agent/gigafactory-agent.mjs'; // a space, to see it quoted
const TOKEN = 'gfe_test_enrollment_token';
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The agent program from its sources (tsx), as the bundle runs it; --script names the bundle to install. */
function agent(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, SUDO_USER: '' } });
}

async function install(platform: string, dir: string, extra: string[] = []): Promise<string> {
  const { stdout } = await agent(['--coordinator', 'coord.example:7070', 'install-service', '--platform', platform, '--root', join(root, dir), '--script', SCRIPT, '--node', process.execPath,
    '--user', 'ci', '--id', 'build-17', '--label', 'gpu=a100', '--slots', '4', '--drain-timeout', '120', '--enroll-token', TOKEN, ...extra]);
  return stdout;
}

describe('install-service', () => {
  it('linux: a systemd unit that systemd-analyze verifies, restarts on failure, drains on stop, logs to the journal', async () => {
    const printed = await install('linux', 'linux');
    const unitPath = join(root, 'linux', 'etc/systemd/system/gigafactory-agent.service');
    const unit = readFileSync(unitPath, 'utf8');
    expect(printed).toBe(`# ${unitPath}\n${unit}`);
    await run('systemd-analyze', ['verify', unitPath]); // rejects on any error
    expect(unit).toContain(`ExecStart=${process.execPath} "${SCRIPT}" --coordinator coord.example:7070 run --id build-17 --label gpu=a100 --slots 4 --work-dir /var/lib/gigafactory-agent --drain-timeout 120`);
    for (const line of ['User=ci', 'Restart=on-failure', 'KillMode=mixed', 'TimeoutStopSec=150', 'StandardError=journal', 'WantedBy=multi-user.target']) expect(unit).toContain(`${line}\n`);
    expect(unit).not.toContain(TOKEN);
    const token = join(root, 'linux', 'var/lib/gigafactory-agent/enroll-token');
    expect(readFileSync(token, 'utf8')).toBe(`${TOKEN}\n`);
    expect(statSync(token).mode & 0o777).toBe(0o600);

    await agent(['uninstall-service', '--platform', 'linux', '--root', join(root, 'linux')]);
    expect(existsSync(unitPath)).toBe(false);
    expect(existsSync(token)).toBe(true);
  });

  it('macos: a launchd plist that parses, with the keys launchd needs', async () => {
    await install('macos', 'macos', ['--work-dir', '/Users/ci/gigafactory & co']);
    const path = join(root, 'macos', 'Library/LaunchDaemons/dev.gigafactory.gigafactory-agent.plist');
    const { stdout } = await run('python3', ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], "rb"))))', path]);
    expect(JSON.parse(stdout)).toEqual({
      Label: 'dev.gigafactory.gigafactory-agent',
      ProgramArguments: [process.execPath, SCRIPT, '--coordinator', 'coord.example:7070', 'run', '--id', 'build-17', '--label', 'gpu=a100', '--slots', '4', '--work-dir', '/Users/ci/gigafactory & co', '--drain-timeout', '120', '--log-level', 'info'],
      UserName: 'ci',
      WorkingDirectory: '/Users/ci/gigafactory & co',
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 5,
      ExitTimeOut: 150,
      StandardOutPath: '/Library/Logs/gigafactory-agent.log',
      StandardErrorPath: '/Library/Logs/gigafactory-agent.log',
    });
    expect(statSync(join(root, 'macos', 'Users/ci/gigafactory & co/enroll-token')).mode & 0o777).toBe(0o600);
  });

  it('windows: an NSSM script that stops with Ctrl+C after the drain, restarts on failure, locks the token down', async () => {
    await install('windows', 'windows');
    const script = readFileSync(join(root, 'windows', 'ProgramData/gigafactory-agent/install-service.cmd'), 'utf8');
    const lines = script.split('\r\n');
    expect(lines).toContain(`nssm install gigafactory-agent ${process.execPath}`);
    expect(lines).toContain(`nssm set gigafactory-agent AppParameters "${'""'}${SCRIPT}${'""'} --coordinator coord.example:7070 run --id build-17 --label gpu=a100 --slots 4 --work-dir C:\\ProgramData\\gigafactory-agent --drain-timeout 120 --log-level info"`);
    for (const line of ['nssm set gigafactory-agent AppStopMethodConsole 150000', 'nssm set gigafactory-agent AppExit Default Restart', 'nssm set gigafactory-agent ObjectName ci', 'nssm start gigafactory-agent']) expect(lines).toContain(line);
    expect(script).toContain('icacls C:\\ProgramData\\gigafactory-agent\\enroll-token /inheritance:r /grant:r SYSTEM:F Administrators:F ci:R');
    expect(script).not.toContain(TOKEN);
  });

  it('a reinstall over an existing token file leaves it readable by its owner only', async () => {
    const token = join(root, 'again', 'var/lib/gigafactory-agent/enroll-token');
    mkdirSync(dirname(token), { recursive: true });
    writeFileSync(token, 'old\n', { mode: 0o644 });
    await install('linux', 'again');
    expect(readFileSync(token, 'utf8')).toBe(`${TOKEN}\n`);
    expect(statSync(token).mode & 0o777).toBe(0o600);
  });

  it.skipIf(process.getuid?.() !== 0)('without the right to write system paths, says to use sudo', async () => {
    // As nobody, under a root-only directory: what a user without sudo meets at /etc/systemd/system.
    const refused = await run('runuser', ['-u', 'nobody', '--', process.execPath, '--import', 'tsx', MAIN, 'install-service', '--platform', 'linux', '--root', join(root, 'locked'), '--script', SCRIPT], { cwd: join(import.meta.dirname, '..', '..') }).then(
      () => 'ok',
      (err: { stderr: string }) => err.stderr,
    );
    expect(refused).toContain('(EACCES): run it with sudo (as Administrator on Windows), or write elsewhere with --root DIR');
  });

  it('refuses bad input with a clear error', async () => {
    const refused = (args: string[]) => agent(args).then(() => 'ok', (err: { stderr: string }) => err.stderr);
    expect(await refused(['install-service', '--platform', 'solaris', '--root', root])).toContain("Allowed choices are linux, macos, windows");
    expect(await refused(['install-service', '--platform', 'linux', '--root', root, '--work-dir', 'relative/dir', '--script', SCRIPT])).toContain('--work-dir must be an absolute path');
    expect(await refused(['install-service', '--platform', 'linux', '--root', root])).toContain('install-service installs the packaged agent');
    expect(await refused(['uninstall-service', '--platform', 'linux', '--root', join(root, 'nothing')])).toContain('nothing to remove');
  });
});

/**
 * `gigafactory-agent install-service` and `uninstall-service`: the agent as a service that starts at
 * boot, restarts after a crash, drains on stop and logs where the platform keeps logs. The token goes
 * into a file in the work dir that only the service's account can read, never into the definition.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, resolve, win32 } from 'node:path';
import { Command, Option } from 'commander';
import { agentRunOptions } from '../../src/cli/agent-command.js';
import { ENROLL_TOKEN_FILE, FACTORY_TOKEN_FILE } from '../token-files.js';
import { lookUpUser } from '../run-as.js';
import { launchd } from './launchd.js';
import type { ServicePlatform, ServiceSpec } from './spec.js';
import { systemd } from './systemd.js';
import { windowsService } from './windows.js';

const PLATFORMS: Record<ServicePlatform['id'], ServicePlatform> = { linux: systemd, macos: launchd, windows: windowsService };
const HOST_PLATFORM = Object.values(PLATFORMS).find((p) => p.host === process.platform)?.id;

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function commonOptions(command: Command): Command {
  return command
    .addOption(new Option('--platform <platform>', "which service manager to write for (default: this machine's)").choices(Object.keys(PLATFORMS)))
    .option('--name <name>', 'service name', 'gigafactory-agent')
    .option('--work-dir <dir>', 'the agent work dir (default: /var/lib/gigafactory-agent, /Library/Application Support/gigafactory-agent, C:\\ProgramData\\gigafactory-agent)')
    .option('--root <dir>', 'write under this directory instead of / (an image being built, a test); nothing is started or stopped')
    .option('--no-start', 'only write (or remove) the files; print the commands that start (or stop) the service');
}

export function installServiceCommand(): Command {
  const command = commonOptions(new Command('install-service'))
    .description('write (and print) a service definition that runs this agent at boot, store its token, and start it')
    .option('--user <account>', 'the account the service runs as (default: the one that ran sudo, else root / LocalSystem)')
    .option('--node <path>', 'node in the definition (default: this one)')
    .option('--script <path>', 'the agent bundle in the definition (default: this one)')
    .addOption(new Option('--enroll-token <token>', 'one-time enrollment token, stored in <work-dir>/enroll-token (mode 0600)').env('GIGAFACTORY_ENROLL_TOKEN'))
    .addOption(new Option('--token <factory-token>', 'factory token, stored in <work-dir>/factory-token (mode 0600)').env('GIGAFACTORY_FACTORY_TOKEN'));
  for (const option of agentRunOptions()) command.addOption(option);
  return command.action((opts, cmd: Command) => {
    const platform = platformOf(opts.platform);
    const globals = cmd.parent?.opts() ?? {};
    const workDir = workDirOf(platform, opts.workDir);
    if (!SERVICE_NAME.test(opts.name)) throw new Error(`--name "${String(opts.name).slice(0, 40)}" must be 1-64 letters, digits, ".", "_" or "-"`);
    if (opts.enrollToken && opts.token) throw new Error('give --enroll-token or --token, not both');
    const user: string | undefined = opts.user ?? (platform.host === process.platform ? process.env.SUDO_USER : undefined);
    const script = opts.script ?? realpathSync(process.argv[1]!);
    if (script.endsWith('.ts')) throw new Error('install-service installs the packaged agent: run it as gigafactory-agent (npm run build:agent), not from the sources');
    const spec: ServiceSpec = {
      name: opts.name,
      node: opts.node ?? process.execPath,
      script,
      args: [
        '--coordinator', globals.coordinator,
        ...(['tlsCa', 'tlsCert', 'tlsKey'] as const).flatMap((key) => (globals[key] ? [`--${key.replace(/[A-Z]/, (c) => `-${c.toLowerCase()}`)}`, resolve(globals[key])] : [])),
        'run',
        ...(opts.id ? ['--id', opts.id] : []),
        ...(opts.label as string[]).flatMap((label) => ['--label', label]),
        '--slots', String(opts.slots),
        '--work-dir', workDir,
        '--drain-timeout', String(opts.drainTimeout),
        '--log-level', opts.logLevel,
        ...(opts.passEnv as string[]).flatMap((name) => ['--pass-env', name]),
      ],
      ...(user ? { user } : {}),
      workDir,
      drainTimeoutS: opts.drainTimeout,
    };
    const definition = platform.definitionPath(spec);
    const live = !opts.root && platform.host === process.platform;
    const at = (path: string): string => underRoot(opts.root, platform, path);
    const owner = live && user && platform.host !== 'win32' ? accountOf(user) : null;

    const token = opts.enrollToken ? { file: ENROLL_TOKEN_FILE, value: opts.enrollToken as string } : opts.token ? { file: FACTORY_TOKEN_FILE, value: opts.token as string } : null;
    asAdministrator(() => {
      mkdirSync(at(workDir), { recursive: true, mode: 0o700 }); // the agent keeps it 0700 (its token is there)
      if (owner) chownSync(at(workDir), owner.uid, owner.gid);
      if (token) {
        const path = join(at(workDir), token.file);
        writeFileSync(path, `${token.value}\n`, { mode: 0o600 });
        chmodSync(path, 0o600); // a file that already existed keeps its mode through writeFileSync
        if (owner) chownSync(path, owner.uid, owner.gid);
      }
      mkdirSync(dirname(at(definition)), { recursive: true });
      writeFileSync(at(definition), platform.render(spec), { mode: 0o644 });
    });

    process.stdout.write(`# ${at(definition)}\n${platform.render(spec)}`);
    process.stderr.write(`wrote ${at(definition)}${token ? ` and ${join(at(workDir), token.file)} (mode 0600${owner ? `, owned by ${user}` : ''})` : ''}\n`);
    run(platform.startCommands(spec), opts.start && live, 'start it');
    process.stderr.write(`logs: ${platform.logsHint(spec)}\n`);
  });
}

export function uninstallServiceCommand(): Command {
  return commonOptions(new Command('uninstall-service'))
    .description('stop the service (it drains) and remove its definition; the work dir (token, unsent results) stays')
    .action((opts) => {
      const platform = platformOf(opts.platform);
      const spec = { name: opts.name as string, workDir: workDirOf(platform, opts.workDir) };
      const live = !opts.root && platform.host === process.platform;
      run(platform.stopCommands(spec), opts.start && live, 'stop it');
      const definition = underRoot(opts.root, platform, platform.definitionPath(spec));
      if (!existsSync(definition)) throw new Error(`no service definition at ${definition}: nothing to remove`);
      asAdministrator(() => rmSync(definition));
      process.stderr.write(`removed ${definition}; ${spec.workDir} is kept\n`);
      if (live && platform.id === 'linux') execFileSync('systemctl', ['daemon-reload'], { stdio: 'inherit' });
    });
}

function platformOf(id: string | undefined): ServicePlatform {
  const chosen = id ?? HOST_PLATFORM;
  if (!chosen) throw new Error(`no service manager known for ${process.platform}: pick one with --platform linux, macos or windows`);
  return PLATFORMS[chosen as ServicePlatform['id']];
}

function workDirOf(platform: ServicePlatform, given: string | undefined): string {
  const workDir = given ?? platform.defaultWorkDir;
  const absolute = platform.id === 'windows' ? win32.isAbsolute(workDir) : posix.isAbsolute(workDir);
  if (!absolute) throw new Error(`--work-dir must be an absolute path for a service, got "${workDir.slice(0, 100)}"`);
  return workDir;
}

/** Where a path of the target machine is written: itself, or under --root (a Windows path without its drive). */
function underRoot(root: string | undefined, platform: ServicePlatform, path: string): string {
  if (!root) return path;
  return join(root, platform.id === 'windows' ? path.replace(/^[A-Za-z]:/, '').replaceAll('\\', '/') : path);
}

/** Runs `write`, turning a refusal to write a system path into what to do about it. */
function asAdministrator(write: () => void): void {
  try {
    write();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'EACCES' && e.code !== 'EPERM') throw err;
    throw new Error(`cannot write ${e.path ?? 'a system path'} (${e.code}): run it with sudo (as Administrator on Windows), or write elsewhere with --root DIR`);
  }
}

/** Runs the commands, or prints them for the operator when `now` is false. */
function run(commands: string[][], now: boolean, what: string): void {
  const lines = commands.map((argv) => argv.map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(' '));
  if (!now) {
    process.stderr.write(`to ${what}:\n${lines.map((l) => `  ${l}\n`).join('')}`);
    return;
  }
  for (const [i, argv] of commands.entries()) {
    process.stderr.write(`$ ${lines[i]}\n`);
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  }
}

/** The numeric ids of a local account (for chown), from `id`. */

function accountOf(user: string): { uid: number; gid: number } {
  try {
    return lookUpUser(user);
  } catch (err) {
    throw new Error(`--user ${user}: ${(err as Error).message}`);
  }
}

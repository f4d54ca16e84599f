/** Looks up the account a job (or the installed service) runs as: POSIX only, through `id`. */
import { execFileSync } from 'node:child_process';
import type { RunAsUser } from './job-process.js';

/** The account's uid and primary gid; throws when the machine has no such account. */
export function lookUpUser(name: string): RunAsUser {
  const id = (flag: string): number => {
    try {
      return Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    } catch {
      throw new Error(`no such account "${name}" on this machine`);
    }
  };
  return { name, uid: id('-u'), gid: id('-g') };
}

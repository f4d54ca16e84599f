/**
 * Modes for what holds secrets (the coordinator's data dir and SQLite file, the agent's work dir,
 * token and unsent results): owner only. The mode given to mkdir is masked by the umask and does
 * not apply to a directory that already exists, so it is set explicitly.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';

/** Owner only. */
export const PRIVATE_DIR_MODE = 0o700;
/**
 * Others may pass through to a path they know, never list or read: for the directories above the
 * workspace of a job that runs as another user.
 */
export const PASS_THROUGH_DIR_MODE = 0o711;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` owner only, or makes it so when others may list or write it. A directory others may
 * only pass through (PASS_THROUGH_DIR_MODE, set by the process whose jobs run as another account)
 * keeps that mode, so a second command (`keys bootstrap`) does not lock those jobs out.
 */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if ((statSync(dir).mode & 0o066) !== 0) chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Creates `dir` if needed and lets others pass through it: list nothing, reach what they own below. */
export function makePassThroughDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PASS_THROUGH_DIR_MODE });
  chmodSync(dir, PASS_THROUGH_DIR_MODE);
}

/** Sets the owner-only file mode on each of `files` that exists. */
export function makePrivateFiles(...files: string[]): void {
  for (const file of files) if (existsSync(file)) chmodSync(file, PRIVATE_FILE_MODE);
}

/**
 * The exit status of `submit --wait` and `logs -f`: the job's own exit code when its run said one,
 * otherwise a fixed code per way of ending, so a script can tell a cancelled or dead-lettered job
 * from a failed one. Pure: no protobuf, so the table is readable on its own.
 */

/** Codes for the endings without an exit code of their own (documented in docs/cli.md). */
export const JOB_EXIT = {
  succeeded: 0,
  /** Failed with no exit code: timed out, killed by a signal, could not start. */
  failedWithoutCode: 1,
  /** Not the job: the command was used wrongly (commander's parse errors). */
  usage: 2,
  cancelled: 80,
  dead: 81,
  rejected: 82,
} as const;

export type JobEnding = 'succeeded' | 'awaiting_review' | 'shipped' | 'failed' | 'cancelled' | 'dead' | 'rejected';

/** The status for a job that ended as `ending`; `exitCode` is its last attempt's, when it had one. */
export function jobExitStatus(ending: JobEnding, exitCode: number | undefined): number {
  switch (ending) {
    case 'succeeded':
    case 'awaiting_review':
    case 'shipped':
      return JOB_EXIT.succeeded;
    case 'failed':
      // A shell keeps only the low 8 bits; a code that would read as success still says failure.
      return exitCode !== undefined && exitCode % 256 !== 0 ? ((exitCode % 256) + 256) % 256 : JOB_EXIT.failedWithoutCode;
    case 'cancelled':
      return JOB_EXIT.cancelled;
    case 'dead':
      return JOB_EXIT.dead;
    case 'rejected':
      return JOB_EXIT.rejected;
  }
}

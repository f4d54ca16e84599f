/** `gigafactory top`'s flags and help; what it does is in top-run.ts, loaded when it runs. */
import { Command, InvalidArgumentError } from 'commander';
import type { CliContext } from './context.js';

/** --refresh: seconds, from a quarter of a second (a busier poll than that helps nobody) to an hour. */
function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0.25 || n > 3600) throw new InvalidArgumentError(`--refresh must be a number of seconds from 0.25 to 3600, got "${value}"`);
  return n;
}

export function topCommand(ctx: CliContext): Command {
  return new Command('top')
    .description('a live full-screen view of the fleet: factories, slots, the queue by product, running jobs (q quits, / filters by product, p f j focus a panel)')
    .option('--once', 'print one frame of the current state and exit (for scripts; with --json, its data as JSON)', false)
    .option('--refresh <seconds>', 'how often the factories are read again; without a terminal, the most often a frame is printed', seconds, 2)
    .option('--product <text>', 'start filtered to products whose name contains this (/ changes it)')
    .action(async (opts) => {
      if (ctx.json() && !opts.once) throw new InvalidArgumentError('top --json needs --once: a live view is for a terminal');
      await (await import('./top-run.js')).top(ctx, opts);
    });
}

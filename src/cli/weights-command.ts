/**
 * `gigafactory weights eval|recommend|ab`: evaluate scoring weights on a product's recorded
 * placements, search for better ones, and run an A/B experiment of candidate weights
 * (WeightsService; eval/recommend/showing an experiment: viewer; starting or stopping one: admin).
 */
import { Command, InvalidArgumentError } from 'commander';
import type { ClientSecurity } from './connection-options.js';

/** The wire side (protobuf, the client, the text of a report), loaded when an action runs. */
const run = () => import('./weights-run.js');

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError(`"${value}" is not a fraction: use a number more than 0 and at most 1 (0.1 is 10% of jobs)`);
  return n;
}

function seed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new InvalidArgumentError(`"${value}" is not a seed: use a whole number from 1`);
  return n;
}

export function weightsCommand(coordinator: () => string, security: () => ClientSecurity, json: () => boolean): Command {
  const cli = { coordinator, security, json };
  const weights = new Command('weights').description("evaluate a product's scoring weights on its recorded placements; A/B experiments (docs/weights.md)");
  weights
    .command('eval')
    .description('replay the recorded placements under other weights: expected change in success rate, turnaround and cost, with 95% intervals')
    .requiredOption('--product <product>', 'the product')
    .requiredOption('--weights <file>', 'YAML or JSON: weight names to numbers, over the product\'s own (e.g. "costClass: 0")')
    .option('--seed <n>', 'seed of the bootstrap', seed, 1)
    .action(async (opts: { product: string; weights: string; seed: number }) => (await run()).evaluate(cli, opts));
  weights
    .command('recommend')
    .description('search the weights that decide where a job goes and propose the best set, if its gain is clear')
    .requiredOption('--product <product>', 'the product')
    .option('--objective <objective>', 'what to improve: success, turnaround or cost', 'success')
    .option('--seed <n>', 'seed of the search and the bootstrap', seed, 1)
    .action(async (opts: { product: string; objective: string; seed: number }) => (await run()).recommend(cli, opts));
  weights
    .command('ab')
    .description('start (--weights, --fraction), stop (--off) or show an A/B experiment of candidate weights')
    .requiredOption('--product <product>', 'the product')
    .option('--weights <file>', 'the candidate arm\'s weights over the product\'s own (YAML or JSON)')
    .option('--fraction <f>', 'share of the product\'s jobs in the candidate arm, e.g. 0.1', fraction)
    .option('--off', 'stop the experiment', false)
    .option('--seed <n>', 'seed of the bootstrap', seed, 1)
    .action(async (opts: { product: string; weights?: string; fraction?: number; off: boolean; seed: number }) => {
      if (opts.off && (opts.weights || opts.fraction !== undefined)) throw new InvalidArgumentError('--off stops the experiment: give it without --weights and --fraction');
      if (!opts.off && (opts.weights === undefined) !== (opts.fraction === undefined)) throw new InvalidArgumentError('starting an experiment needs both --weights and --fraction');
      await (await run()).experiment(cli, opts);
    });
  return weights;
}

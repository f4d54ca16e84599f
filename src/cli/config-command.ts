/** `gigafactory config print`: the effective configuration and where each value came from. */
import { Command } from 'commander';
import { withServeOptions } from './serve.js';

export function configCommand(): Command {
  const config = new Command('config').description('inspect the coordinator configuration');
  config.addCommand(
    withServeOptions(new Command('print').description('print the effective settings (secrets masked) and their sources'))
      .action(async (flags: Record<string, unknown>, command: Command) => {
        // Loaded when it runs: the configuration schema is not needed for --help.
        const [{ SECRET_KEYS, envName }, { loadServeConfig }] = await Promise.all([import('../config.js'), import('./serve-run.js')]);
        const json = Boolean(command.optsWithGlobals().json); // --json is the program's global option
        const { config: values, sources } = loadServeConfig(flags, 'config print');
        const rows = Object.entries(values).map(([key, value]) => ({
          key,
          value: SECRET_KEYS.has(key) && value ? '********' : value,
          source: sources[key] ?? 'default',
          env: envName(key),
        }));
        if (json) {
          process.stdout.write(JSON.stringify(Object.fromEntries(rows.map((r) => [r.key, { value: r.value, source: r.source }])), null, 2) + '\n');
          return;
        }
        const width = Math.max(...rows.map((r) => r.key.length));
        const valueWidth = Math.max(...rows.map((r) => JSON.stringify(r.value).length));
        for (const r of rows) process.stdout.write(`${r.key.padEnd(width)}  ${JSON.stringify(r.value).padEnd(valueWidth)}  ${r.source}\n`);
      }),
  );
  return config;
}

/**
 * Structured logs: JSON lines from pino, pretty-printed when a person watches a terminal. Secrets
 * never reach a line: the redaction paths below cover every place a token can appear.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { build as prettyStream } from 'pino-pretty';

export type { Logger };

export interface LogOptions {
  level: LevelWithSilent;
  /** Pretty output; defaults to whether stderr is a terminal. */
  pretty?: boolean;
  /** Where JSON lines go (a file descriptor); defaults to stderr. */
  destination?: number;
}

export function createLogger(options: LogOptions): Logger {
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const base = {
    level: options.level,
    base: { pid: process.pid },
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'key', '*.key', 'secret', '*.secret'], censor: '[redacted]' },
  };
  if (pretty) {
    // In this thread, not as a pino transport: a transport's worker loads pino-pretty by name, which
    // the bundled agent (one file, no node_modules) could not do. Only a person at a terminal reads it.
    return pino(base, prettyStream({ destination: options.destination ?? 2, translateTime: 'SYS:HH:MM:ss.l', sync: true }));
  }
  return pino(base, pino.destination({ dest: options.destination ?? 2, sync: true }));
}

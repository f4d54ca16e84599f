/**
 * What every client command reads from the program's global options: where the coordinator is,
 * how to authenticate, whether to print JSON, and where its web control plane shows a job.
 */
import type { ClientSecurity } from './connection-options.js';

export interface CliContext {
  coordinator(): string;
  security(): ClientSecurity;
  json(): boolean;
  /** The job's page in the web control plane. */
  jobUrl(jobId: string): string;
}

/** The coordinator's default HTTP port, where `serve` puts the web control plane. */
const DEFAULT_HTTP_PORT = 8080;

/**
 * The control plane's address: --ui-url when given, otherwise the coordinator's host on the default
 * HTTP port (what `npm start` and a plain `serve` listen on), https when the CLI speaks TLS.
 */
export function uiBaseUrl(coordinator: string, uiUrl: string | undefined, tls: boolean): string {
  if (uiUrl) return uiUrl.replace(/\/+$/, '');
  const hostPort = coordinator.replace(/^https?:\/\//, '').split(',')[0]!;
  const host = hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : hostPort.replace(/:\d+$/, '');
  return `${tls ? 'https' : 'http'}://${host}:${DEFAULT_HTTP_PORT}`;
}

export function jobPageUrl(base: string, jobId: string): string {
  return `${base}/jobs/${encodeURIComponent(jobId)}`;
}

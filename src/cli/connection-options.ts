/**
 * How a program reaches the coordinator: `--coordinator` and the `--tls-*` files. Shared by
 * `gigafactory` and `gigafactory-agent`, whose subcommands read them from their parent.
 */
import { Option } from 'commander';

export const DEFAULT_COORDINATOR = '127.0.0.1:7070';

export function coordinatorOption(description = 'coordinator gRPC address'): Option {
  return new Option('--coordinator <host:port>', description).env('GIGAFACTORY_COORDINATOR').default(DEFAULT_COORDINATOR);
}

export function tlsOptions(): Option[] {
  return [
    new Option('--tls-ca <file>', "CA bundle that signed the coordinator's certificate (uses TLS)").env('GIGAFACTORY_TLS_CA'),
    new Option('--tls-cert <file>', 'client certificate, for a coordinator that requires mTLS').env('GIGAFACTORY_TLS_CERT'),
    new Option('--tls-key <file>', 'key of the client certificate').env('GIGAFACTORY_TLS_KEY'),
  ];
}

/** How the CLI and the agent reach the coordinator: the global options `--key`, `--tls-*`. */
export interface ClientSecurity {
  /** API key, sent as `authorization: Bearer`. */
  key?: string;
  /** CA bundle to verify the coordinator's certificate; switches to TLS. */
  tlsCa?: string;
  /** Client certificate and key, for a listener that requires mTLS; switch to TLS too. */
  tlsCert?: string;
  tlsKey?: string;
}

export function usesTls(sec: ClientSecurity): boolean {
  return Boolean(sec.tlsCa || sec.tlsCert || sec.tlsKey);
}

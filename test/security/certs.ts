/**
 * Test certificates made with the system `openssl`: a CA, a server certificate for 127.0.0.1 and
 * localhost, a client certificate from the same CA, and a second CA with a client certificate of its
 * own (the "wrong CA"). EC P-256 keys, valid for a day, in a fresh temp dir.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  wrongCaCert: string;
  wrongClientCert: string;
  wrongClientKey: string;
  remove(): void;
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'gigafactory-certs-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  const key = (name: string): void => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path(name));
  const ca = (name: string, cn: string): void => {
    key(`${name}.key`);
    openssl('req', '-x509', '-new', '-key', path(`${name}.key`), '-out', path(`${name}.crt`), '-days', '1', '-subj', `/CN=${cn}`);
  };
  const leaf = (name: string, caName: string, cn: string, ext: string): void => {
    key(`${name}.key`);
    openssl('req', '-new', '-key', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', `/CN=${cn}`);
    writeFileSync(path(`${name}.ext`), ext);
    openssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', path(`${caName}.crt`), '-CAkey', path(`${caName}.key`), '-CAcreateserial', '-out', path(`${name}.crt`), '-days', '1', '-extfile', path(`${name}.ext`));
  };
  ca('ca', 'gigafactory test CA');
  ca('wrong-ca', 'some other CA');
  leaf('server', 'ca', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'ca', 'factory-client', 'extendedKeyUsage=clientAuth\n');
  leaf('wrong-client', 'wrong-ca', 'factory-client', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: path('ca.crt'),
    serverCert: path('server.crt'),
    serverKey: path('server.key'),
    clientCert: path('client.crt'),
    clientKey: path('client.key'),
    wrongCaCert: path('wrong-ca.crt'),
    wrongClientCert: path('wrong-client.crt'),
    wrongClientKey: path('wrong-client.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

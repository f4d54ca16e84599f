/**
 * The agent's factory token: given (--token / GIGAFACTORY_FACTORY_TOKEN), stored in
 * `<work-dir>/factory-token` (mode 0600), or obtained once by enrolling with a one-time enrollment
 * token (given, or left in `<work-dir>/enroll-token` by `install-service`; the file is deleted once
 * used). Sent as `authorization: Bearer` on every connect; replaced when the coordinator rotates it.
 * Without any of them the agent connects without a credential (loopback development mode).
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { chmod, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../src/logging.js';
import { bearerMetadata, enrollFactory } from './grpc-client.js';
import { ReconnectPolicy } from './reconnect.js';
import { ENROLL_TOKEN_FILE, FACTORY_TOKEN_FILE } from './token-files.js';


/** Statuses after which enrolling again later may work (the coordinator is not up yet, say). */
const RETRYABLE = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED]);

export interface FactoryCredentialsOptions {
  workDir: string;
  factoryId: string;
  /** An explicit factory token; wins over the stored one. */
  token?: string;
  /** Used only when there is no token: trades it for one (once) and stores it. */
  enrollToken?: string;
  log: Logger;
}

export class FactoryCredentials {
  readonly path: string;
  private token: string | null = null;
  private source: 'flag' | 'file' | 'none' = 'none';

  constructor(private readonly opts: FactoryCredentialsOptions) {
    this.path = join(opts.workDir, FACTORY_TOKEN_FILE);
  }

  /**
   * Finds or obtains the token before the first connect. Enrolling is retried while the coordinator
   * is unreachable; a refusal (a used, expired or unknown enrollment token) throws.
   */
  async prepare(dial: () => grpc.Client, signal: AbortSignal): Promise<void> {
    if (this.opts.token) {
      this.token = this.opts.token;
      this.source = 'flag';
      return;
    }
    this.token = readToken(this.path);
    if (this.token) {
      this.source = 'file';
      if (this.opts.enrollToken) this.opts.log.info({ path: this.path }, 'already enrolled; the stored factory token is used and --enroll-token is ignored');
      return;
    }
    const enrollFile = join(this.opts.workDir, ENROLL_TOKEN_FILE);
    const enrollToken = this.opts.enrollToken ?? readToken(enrollFile);
    if (!enrollToken) return;
    const backoff = new ReconnectPolicy();
    while (!signal.aborted) {
      const client = dial();
      try {
        const enrolled = await enrollFactory(client, enrollToken, this.opts.factoryId);
        await this.store(enrolled.factoryToken);
        await rm(enrollFile, { force: true }); // used up: nothing left to steal
        this.opts.log.info({ factoryId: enrolled.factoryId, path: this.path, allowedProducts: enrolled.allowedProducts }, 'enrolled; factory token stored');
        return;
      } catch (err) {
        const e = err as grpc.ServiceError;
        if (!RETRYABLE.has(e.code)) throw new Error(`enrollment refused: ${e.details || e.message} (${grpc.status[e.code] ?? e.code})`);
        const delayMs = backoff.nextDelayMs();
        this.opts.log.warn({ delayMs, why: e.details || e.message }, 'could not reach the coordinator to enroll; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
      } finally {
        client.close();
      }
    }
  }

  /** Request metadata for a connect; a stored token is re-read so an operator can replace the file. */
  metadata(): grpc.Metadata {
    if (this.source === 'file') this.token = readToken(this.path) ?? this.token;
    return bearerMetadata(this.token);
  }

  get hasToken(): boolean {
    return this.token !== null;
  }

  /** Keeps a new token (enrollment or rotation): written atomically, readable by this user only. */
  async store(token: string): Promise<void> {
    const tmp = `${this.path}.${process.pid}.tmp`;
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(token + '\n');
      await file.sync();
    } finally {
      await file.close();
    }
    await chmod(tmp, 0o600); // the mode of open() is masked by the umask; be explicit
    await rename(tmp, this.path);
    if (this.source === 'flag') {
      this.opts.log.warn({ path: this.path }, 'the factory token was rotated; the given --token / GIGAFACTORY_FACTORY_TOKEN stops working after the overlap: use the stored file');
    }
    this.token = token;
    this.source = 'file';
  }
}

function readToken(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

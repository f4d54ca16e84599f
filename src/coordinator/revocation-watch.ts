/**
 * Revocation across replicas. A revocation made on this replica closes the factory's streams here
 * at once (AdminService.RevokeFactory); one made on another replica reaches this one only through
 * the shared store. So, when the store is shared, every `intervalMs` this asks the store which of
 * the factories with a stream open here are revoked (one query for all of them, whatever the fleet
 * size) and says goodbye (REVOKED) to their streams: a revoked factory is disconnected everywhere
 * within about one interval plus one store round trip. Its leases then expire as usual. The same
 * for API keys: the WatchJobs and TailLogs streams of a key revoked elsewhere end UNAUTHENTICATED.
 */
import type { Logger } from '../logging.js';
import type { FactoryStreams } from './factory-streams.js';
import type { OpenStreams } from './open-streams.js';
import type { Security } from './security.js';

/** Half a second, so revocation on another replica still closes streams within 1 s. */
export const REVOCATION_POLL_MS = 500;

export class RevocationWatch {
  private timer: NodeJS.Timeout | null = null;
  private checking = false;
  /** Streams closed here for revocations made elsewhere (tests, logs). */
  closed = 0;

  constructor(
    private readonly security: Security,
    private readonly streams: FactoryStreams,
    private readonly followers: OpenStreams,
    private readonly log: Logger,
    private readonly intervalMs = REVOCATION_POLL_MS,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass; returns how many streams it closed. Passes never overlap. */
  async check(): Promise<number> {
    const ids = this.streams.factoryIds();
    const keyIds = this.followers.keyIds();
    if (this.checking || ids.length + keyIds.length === 0) return 0;
    this.checking = true;
    let closed = 0;
    try {
      if (keyIds.length > 0) {
        for (const [keyId, refusal] of await this.security.revokedKeys(keyIds)) {
          const n = this.followers.closeKey(keyId, refusal);
          if (n > 0) this.log.info({ keyId, closedStreams: n }, 'API key revoked on another replica; ended its streams here');
          closed += n;
        }
      }
      for (const factoryId of ids.length > 0 ? await this.security.store.revokedAmong(ids) : []) {
        const f = await this.security.store.getFactoryCredential(factoryId);
        const by = f?.revokedBy ? ` by ${f.revokedBy}` : '';
        const n = this.streams.revoke(factoryId, `credentials revoked${by}${f?.revokeReason ? `: ${f.revokeReason}` : ''}`);
        if (n > 0) this.log.info({ factoryId, closedStreams: n, revokedBy: f?.revokedBy ?? null }, 'factory revoked on another replica; closed its streams here');
        closed += n;
      }
    } catch (err) {
      this.log.warn({ err }, 'revocation check failed; trying again');
    } finally {
      this.checking = false;
    }
    this.closed += closed;
    return closed;
  }
}

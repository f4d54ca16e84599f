/**
 * The open streams of each authenticated factory identity: the limit on how many one identity may
 * hold, and the handle revocation and rotation use to reach them (including streams still waiting
 * for hello, which the fleet does not know by factory yet).
 */
import { DomainError } from '../domain/errors.js';
import type { FactoryLink } from './factory-link.js';

export class FactoryStreams {
  private readonly byFactory = new Map<string, Set<FactoryLink>>();

  constructor(private readonly maxPerFactory: number) {}

  /**
   * Counts a new stream against its factory; RESOURCE_EXHAUSTED beyond the limit. Returns the
   * release to call exactly once when the stream ends.
   */
  add(factoryId: string, session: FactoryLink): () => void {
    const open = this.byFactory.get(factoryId) ?? new Set<FactoryLink>();
    if (open.size >= this.maxPerFactory) {
      throw new DomainError(
        'resource_exhausted',
        `factory "${factoryId}" already has ${open.size} open streams (the limit is ${this.maxPerFactory}); close one or wait for it to time out`,
      );
    }
    open.add(session);
    this.byFactory.set(factoryId, open);
    return () => {
      open.delete(session);
      if (open.size === 0 && this.byFactory.get(factoryId) === open) this.byFactory.delete(factoryId);
    };
  }

  /** The identities with at least one open stream. */
  factoryIds(): string[] {
    return [...this.byFactory.keys()];
  }

  count(factoryId: string): number {
    return this.byFactory.get(factoryId)?.size ?? 0;
  }

  /** Says goodbye (REVOKED) on every open stream of the factory; returns how many there were. */
  revoke(factoryId: string, message: string): number {
    const open = [...(this.byFactory.get(factoryId) ?? [])];
    for (const session of open) session.goodbye('revoked', message);
    return open.length;
  }

  /** Hands a rotated token to the factory's streams; true when at least one took it. */
  deliverToken(factoryId: string, token: string, previousExpiresAt: number): boolean {
    let delivered = false;
    for (const session of this.byFactory.get(factoryId) ?? []) delivered = session.deliverToken(token, previousExpiresAt) || delivered;
    return delivered;
  }
}

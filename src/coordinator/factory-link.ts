/**
 * What the coordinator knows of one factory stream: who is on it, where its state machine is, and
 * what it can be asked to do. The stream itself (its protobuf, its transport) lives in api/; the
 * session registry, the dispatcher and the reaper see only this.
 */
import type { DomainError } from '../domain/errors.js';
import type { JobRecord } from '../domain/job.js';
import type { Clock } from './clock.js';
import type { FleetObserver } from './fleet-observer.js';
import type { FactoryPort, Leases } from './leases.js';
import type { LeaseKeys } from './lease-keys.js';
import type { FleetSettings } from './lease-settings.js';

export interface FactoryIdentity {
  factoryId: string;
  labels: Record<string, string>;
  slots: number;
  agentVersion: string;
}

export type SessionState =
  | { t: 'awaiting_hello' }
  | { t: 'active'; factory: FactoryIdentity }
  | { t: 'draining'; factory: FactoryIdentity }
  | { t: 'closed'; reason: string };

/** Why the coordinator ends a stream with goodbye (the api maps each to its GoodbyeReason). */
export type Farewell = 'shutdown' | 'drained' | 'revoked' | 'replaced' | 'max_age' | 'heartbeat_timeout';

export interface FactoryLink extends FactoryPort {
  readonly sessionId: string;
  readonly connectedAt: number;
  readonly lastSeenAt: number;
  readonly current: SessionState;
  /** Who said hello; null before hello and once closed. */
  readonly factory: FactoryIdentity | null;
  /** Slots the dispatcher may fill. */
  readonly freeSlots: number;
  /** The jobs this factory holds leases on. */
  jobIds(): string[];
  /** Whether jobs of this product may be offered here (an enrollment may limit the products). */
  mayServe(productId: string): boolean;
  /** No new offers; goodbye once its jobs are done. */
  drain(reason: string): Promise<void>;
  /** Sends goodbye and ends the stream. */
  goodbye(reason: Farewell, message: string): void;
  /** Marks the stream gone (either side). Idempotent. */
  close(reason: string): void;
  /** Ends the stream with an error (after close). */
  end(error?: DomainError): void;
  /** Hands the factory its rotated token; false when the stream is already closed. */
  deliverToken(token: string, previousExpiresAt: number): boolean;
}

/** What a session needs of the fleet: the lease owner, the registry of sessions, and the reaper's wake-up. */
export interface SessionHost {
  readonly clock: Clock;
  readonly settings: FleetSettings;
  readonly observer: FleetObserver;
  readonly leases: Leases;
  /** Signs the lease token each offer carries. */
  readonly leaseKeys: LeaseKeys;
  /** Jobs the store shows leased to the factory (to find those its hello did not list). */
  listLeasedTo(factoryId: string): Promise<JobRecord[]>;
  register(session: FactoryLink): void;
  unregister(session: FactoryLink): void;
  /** Leases of a broken stream lapse at `at`: run the reaper then. */
  wakeReaperAt(at: number): void;
}

/** Where a new stream is registered before its hello. */
export interface SessionRegistry {
  newSessionId(): string;
  open(session: FactoryLink): void;
}

/** What the fleet reports about its streams, for metrics; the coordinator knows no metrics library. */
export interface FleetObserver {
  /** A message arrived on a factory stream (its oneof case). */
  messageIn(kind: string): void;
  /** A message was sent on a factory stream. */
  messageOut(kind: string): void;
  /** A factory message was refused and answered with lease_revoked (stale epoch, not the holder, ...). */
  refused(kind: string): void;
}

export const NO_FLEET_OBSERVER: FleetObserver = { messageIn() {}, messageOut() {}, refused() {} };

/** Time as the coordinator sees it; tests and the simulation pass a fake one. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

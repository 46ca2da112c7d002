import type { UserStoreApi } from '../store/user-store.js';

/** Jobs an owner may have running at once, and waiting in the queue (docs/architecture.md, Placement). */
export interface Limits {
  maxRunning: number;
  maxWaiting: number;
}

export const DEFAULT_LIMITS: Limits = { maxRunning: 16, maxWaiting: 1000 };

export type LimitsOf = (owner: string) => Limits;

/**
 * The limits that apply to an owner: the user's overrides, else the configured defaults. Read
 * from the store each time, so a change made through the admin API applies to the next decision.
 */
export function ownerLimits(users: UserStoreApi, defaults: Limits): LimitsOf {
  return (owner) => {
    const overrides = users.get(owner)?.limits;
    return { maxRunning: overrides?.maxRunning ?? defaults.maxRunning, maxWaiting: overrides?.maxWaiting ?? defaults.maxWaiting };
  };
}

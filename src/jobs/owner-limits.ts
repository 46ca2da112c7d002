import { OutpostError } from '../errors.js';
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

/** Seconds a client told that it has too many jobs waiting is asked to wait before trying again. */
const RETRY_AFTER_SECONDS = 5;

/** A job beyond its owner's waiting limit (docs/decisions.md, Users and access: 429 with Retry-After); `waiting` counts the others. */
export function tooManyWaiting(owner: string, waiting: number, maxWaiting: number): OutpostError {
  return waitingLimitError(`user '${owner}' already has ${waiting} job${waiting === 1 ? '' : 's'} waiting (limit ${maxWaiting})`);
}

/** The 429 of `tooManyWaiting` with the words another orchestrator chose (docs/scale-out.md §3). */
export function waitingLimitError(detail: string): OutpostError {
  return new OutpostError('too-many-requests', 429, detail, { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } });
}

/** Capped exponential backoff for reconnecting: 1 s, 2 s, 4 s … up to `maxMs`. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 60_000 };

/**
 * The wait before attempt `attempt` (0 for the first retry), with "equal jitter": between half and
 * all of the capped exponential delay, so that a fleet cut off together does not come back in step.
 */
export function backoffDelay(attempt: number, { initialMs, maxMs }: Backoff, random = Math.random): number {
  const capped = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(capped / 2 + (random() * capped) / 2);
}

/** Network failures worth another attempt later; anything else (a refused login) is final. */
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

export function isTransient(err: unknown): boolean {
  return TRANSIENT.has((err as { code?: string } | undefined)?.code ?? '');
}

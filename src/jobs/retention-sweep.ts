import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';

/** Finished jobs removed per transaction: small enough that dispatch never waits long for the store. */
export const DEFAULT_RETENTION_BATCH = 200;
/** Time between sweeps. */
export const DEFAULT_RETENTION_INTERVAL_MS = 60_000;

export interface RetentionSweepOptions {
  /** How long finished jobs and audit entries are kept, unless a process keeps its jobs for another time. */
  keepMs: number;
  /** Removes up to `limit` expired jobs through the lifecycle; resolves with how many went. */
  expireJobs: (keepMs: number, limit: number) => Promise<number>;
  /** Removes up to `limit` audit entries older than `before`; resolves with how many went. */
  trimAudit: (before: Date, limit: number) => Promise<number>;
  intervalMs?: number;
  batchSize?: number;
  logger: Logger;
}

/**
 * Retention (docs/decisions.md, Retention and audit): every interval, expired jobs and audit
 * entries are removed batch after batch, each batch one short transaction, with a turn of the
 * event loop between batches so that dispatch and requests go on meanwhile. Returns the stop
 * function, which waits for a sweep under way.
 */
export function startRetentionSweep(options: RetentionSweepOptions): () => Promise<void> {
  const { keepMs, logger } = options;
  const batchSize = options.batchSize ?? DEFAULT_RETENTION_BATCH;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> = Promise.resolve();

  const drain = async (removeBatch: () => Promise<number>): Promise<number> => {
    let total = 0;
    for (let removed = batchSize; removed === batchSize && !stopped; total += removed) {
      removed = await removeBatch();
      await nextTurn();
    }
    return total;
  };
  const sweep = async () => {
    const jobs = await drain(() => options.expireJobs(keepMs, batchSize));
    const audit = await drain(() => options.trimAudit(new Date(Date.now() - keepMs), batchSize));
    if (jobs + audit > 0) logger.info({ jobs, audit }, 'retention: removed finished jobs and audit entries kept long enough');
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      sweeping = sweep()
        .catch((err: Error) => logger.error({ err: err.message }, 'retention sweep failed; it runs again after the interval'))
        .finally(schedule);
    }, options.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS);
  };
  schedule();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await sweeping;
  };
}

/** How soon a catalog's keep times apply to new jobs; also the most often the offers are gone through. */
export const PROCESS_KEEP_DELAY_MS = 1000;

interface OfferedProcesses {
  process(id: string): { spec: { id: string; keepJobs?: number } } | undefined;
  on(event: 'offered', listener: (processIds: string[]) => void): unknown;
  off(event: 'offered', listener: (processIds: string[]) => void): unknown;
}

/**
 * Records the keep time of each process on offer (`keepJobs` in its catalog entry) when it
 * changed, a second at most after its offers changed; jobs created from then on take it. A
 * process no longer on offer keeps its last one. Returns the function that stops watching.
 */
export function watchProcessKeeps(
  registry: OfferedProcesses,
  store: { processKeeps(): Map<string, number>; setProcessKeep(processId: string, seconds: number | undefined): void },
): () => void {
  const known = store.processKeeps();
  // Only the ids whose offers changed: a pass over 100,000 ids a second stalls executions.
  const changedIds = new Set<string>();
  let pending: NodeJS.Timeout | undefined;
  const record = () => {
    pending = undefined;
    for (const id of changedIds) {
      const spec = registry.process(id)?.spec;
      if (!spec || known.get(spec.id) === spec.keepJobs) continue;
      store.setProcessKeep(spec.id, spec.keepJobs);
      if (spec.keepJobs === undefined) known.delete(spec.id);
      else known.set(spec.id, spec.keepJobs);
    }
    changedIds.clear();
  };
  // A fleet announcing changes the offers often; they are recorded once per delay at most.
  const offered = (processIds: string[]) => {
    for (const id of processIds) changedIds.add(id);
    pending ??= setTimeout(record, PROCESS_KEEP_DELAY_MS).unref();
  };
  registry.on('offered', offered);
  return () => {
    registry.off('offered', offered);
    clearTimeout(pending);
  };
}

import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';
import { FINISHED_STATUSES, type JobRecord } from './job-record.js';
import { fromRow, type JobRow } from './job-store.js';

const FINISHED = `status IN (${FINISHED_STATUSES.map((status) => `'${status}'`).join(', ')})`;
/** When a job with a keep time of its own expires, in seconds since the epoch: the expression of its index. */
const OWN_EXPIRY = `unixepoch(finished, 'subsec') + keep_seconds`;

/**
 * Which finished jobs have been kept long enough, and their removal with everything the store
 * holds for them (docs/decisions.md, Retention and audit). The upload token hash lives in the
 * job's row; callback deliveries still owed are given up with it. A job takes its process's keep
 * time when it is created (migration trigger `jobs_keep_seconds`); without one, the server's applies.
 */
export class JobRetention {
  readonly #setKeep: Statement<[{ id: string; seconds: number }]>;
  readonly #dropKeep: Statement<[string]>;
  readonly #keeps: Statement<[], { id: string; seconds: number }>;
  readonly #expiredByDefault: Statement<[{ cutoff: string; limit: number }], { id: string }>;
  readonly #expiredByOwnTime: Statement<[{ now: number; limit: number }], { id: string }>;
  readonly #deleteJobs: Statement<[string], JobRow>;
  readonly #deleteCallbacks: Statement<[string]>;
  readonly #expire: (keepMs: number, now: Date, limit: number) => JobRecord[];

  constructor(db: Database) {
    this.#setKeep = db.prepare(
      `INSERT INTO process_retention (process_id, keep_seconds) VALUES (@id, @seconds)
       ON CONFLICT (process_id) DO UPDATE SET keep_seconds = excluded.keep_seconds`,
    );
    this.#dropKeep = db.prepare('DELETE FROM process_retention WHERE process_id = ?');
    this.#keeps = db.prepare('SELECT process_id AS id, keep_seconds AS seconds FROM process_retention');
    // Named indexes: the planner would otherwise take the status index and sort every finished job.
    this.#expiredByDefault = db.prepare(
      `SELECT id FROM jobs INDEXED BY jobs_expiry_default
       WHERE finished IS NOT NULL AND keep_seconds IS NULL AND finished < @cutoff AND ${FINISHED}
       ORDER BY finished LIMIT @limit`,
    );
    this.#expiredByOwnTime = db.prepare(
      `SELECT id FROM jobs INDEXED BY jobs_expiry_own
       WHERE finished IS NOT NULL AND keep_seconds IS NOT NULL AND ${OWN_EXPIRY} < @now AND ${FINISHED}
       ORDER BY ${OWN_EXPIRY} LIMIT @limit`,
    );
    // By id; the unary `+` keeps the planner from reading every finished job through the status index instead.
    this.#deleteJobs = db.prepare(`DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(?)) AND +${FINISHED} RETURNING *`);
    this.#deleteCallbacks = db.prepare('DELETE FROM callbacks WHERE job_id IN (SELECT value FROM json_each(?))');
    this.#expire = db.transaction((keepMs: number, now: Date, limit: number) => {
      const ids = this.#expiredByOwnTime.all({ now: now.getTime() / 1000, limit }).map((row) => row.id);
      if (ids.length < limit) {
        const cutoff = new Date(now.getTime() - keepMs).toISOString();
        ids.push(...this.#expiredByDefault.all({ cutoff, limit: limit - ids.length }).map((row) => row.id));
      }
      if (ids.length === 0) return [];
      const json = JSON.stringify(ids);
      this.#deleteCallbacks.run(json);
      return this.#deleteJobs.all(json).map(fromRow);
    });
  }

  /**
   * Removes up to `limit` finished jobs that finished more than their keep time before `now`
   * (their own, or `keepMs`), in one transaction; returns them as they were.
   */
  expire(keepMs: number, now: Date, limit: number): JobRecord[] {
    return this.#expire(keepMs, now, limit);
  }

  /** The keep times processes asked for in their service files, by process id. */
  processKeeps(): Map<string, number> {
    return new Map(this.#keeps.all().map(({ id, seconds }) => [id, seconds]));
  }

  /** Records a process's own keep time, for the jobs created from now on; undefined: they follow the server's. */
  setProcessKeep(processId: string, seconds: number | undefined): void {
    if (seconds === undefined) this.#dropKeep.run(processId);
    else this.#setKeep.run({ id: processId, seconds });
  }
}

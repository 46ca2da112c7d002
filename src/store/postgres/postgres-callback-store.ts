import type { CallbackDelivery, CallbackKind, CallbackStoreApi } from '../callback-store.js';
import type { Queryable } from './postgres-pool.js';

/** How long a delivery taken by one orchestrator is left to it before another may make it. */
const LEASE_MS = 60_000;

interface DeliveryRow extends Omit<CallbackDelivery, 'id' | 'nextAt' | 'created'> {
  id: string;
  nextAt: string;
  created: string;
}

/** bigint columns come back as strings from the driver; ids and epoch milliseconds stay far below 2^53. */
const toDelivery = (row: DeliveryRow): CallbackDelivery => ({ ...row, id: Number(row.id), nextAt: Number(row.nextAt), created: Number(row.created) });

/**
 * The callback deliveries of src/store/callback-store.ts in PostgreSQL, shared by every
 * orchestrator. A delivery found due is leased to the orchestrator that found it (its `next_at`
 * moved on), so that two never make the same one; a dead orchestrator's lease runs out and another
 * makes the delivery.
 */
export class PostgresCallbackStore implements CallbackStoreApi {
  constructor(private readonly db: Queryable) {}

  async add(jobId: string, kind: Exclude<CallbackKind, 'in-progress'>, uri: string, body: string, at: number): Promise<void> {
    // The final word makes progress nobody has heard yet pointless.
    await this.db.query(
      `WITH dropped AS (DELETE FROM callbacks WHERE job_id = $1 AND kind = 'in-progress')
       INSERT INTO callbacks (job_id, kind, uri, body, next_at, created) VALUES ($1, $2, $3, $4, $5, $5)`,
      [jobId, kind, uri, body, at],
    );
  }

  async progress(jobId: string, uri: string, body: string, at: number): Promise<void> {
    await this.db.query(
      `INSERT INTO callbacks (job_id, kind, uri, body, next_at, created) VALUES ($1, 'in-progress', $2, $3, $4, $4)
       ON CONFLICT (job_id) WHERE kind = 'in-progress' DO UPDATE SET body = excluded.body, uri = excluded.uri, next_at = greatest(callbacks.next_at, excluded.next_at)`,
      [jobId, uri, body, at],
    );
  }

  async due(now: number, limit: number): Promise<CallbackDelivery[]> {
    // A job's deliveries go out in the order they were made: only its oldest one is ever due.
    const { rows } = await this.db.query<DeliveryRow>(
      `WITH taken AS (
         SELECT id, next_at FROM callbacks c
         WHERE next_at <= $1 AND id = (SELECT min(id) FROM callbacks WHERE job_id = c.job_id)
         ORDER BY next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       UPDATE callbacks SET next_at = $1 + ${LEASE_MS} FROM taken WHERE callbacks.id = taken.id
       RETURNING callbacks.id, job_id AS "jobId", kind, uri, body, attempts, taken.next_at AS "nextAt", created`,
      [now, limit],
    );
    return rows.map(toDelivery).sort((a, b) => a.nextAt - b.nextAt || a.id - b.id);
  }

  async nextDue(): Promise<number | undefined> {
    const { rows } = await this.db.query<{ nextAt: string | null }>('SELECT min(next_at) AS "nextAt" FROM callbacks');
    const next = rows[0]?.nextAt;
    return next === null || next === undefined ? undefined : Number(next);
  }

  async retryAt(id: number, at: number): Promise<void> {
    await this.db.query('UPDATE callbacks SET attempts = attempts + 1, next_at = $2 WHERE id = $1', [id, at]);
  }

  async remove(id: number): Promise<void> {
    await this.db.query('DELETE FROM callbacks WHERE id = $1', [id]);
  }

  async delivered(id: number, body: string): Promise<void> {
    // Newer progress that replaced the body is owed now, not when the lease would have run out.
    await this.db.query(
      `WITH made AS (DELETE FROM callbacks WHERE id = $1 AND body = $2 RETURNING id)
       UPDATE callbacks SET next_at = $3 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM made)`,
      [id, body, Date.now()],
    );
  }
}

import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';

/** Which pool owns each process id, kept so that a restart cannot hand an id to whoever comes first. */
export class ProcessPools {
  readonly #upsert: Statement<[{ id: string; pool: string; at: string }]>;
  readonly #selectAll: Statement<[], { id: string; pool: string }>;

  constructor(db: Database) {
    this.#upsert = db.prepare(
      `INSERT INTO process_pools (process_id, pool, since) VALUES (@id, @pool, @at)
       ON CONFLICT (process_id) DO UPDATE SET pool = excluded.pool, since = excluded.since`,
    );
    this.#selectAll = db.prepare('SELECT process_id AS id, pool FROM process_pools');
  }

  set(processId: string, pool: string, at = new Date()): void {
    this.#upsert.run({ id: processId, pool, at: at.toISOString() });
  }

  all(): Map<string, string> {
    return new Map(this.#selectAll.all().map(({ id, pool }) => [id, pool]));
  }
}

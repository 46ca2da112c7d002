import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';

/** Which pool owns each process id, kept so that a restart cannot hand an id to whoever comes first. */
export interface ProcessPoolsApi {
  /** In one transaction: a fleet's catalogs bring new ids by the thousand. */
  set(processIds: readonly string[], pool: string, at?: Date): Promise<void>;
  all(): Promise<Map<string, string>>;
  /** Calls `listener` with the claims each change stored by any orchestrator on the database left. */
  onStored(listener: (claims: Map<string, string>) => void): void;
}

/** The process pools in SQLite. */
export class ProcessPools implements ProcessPoolsApi {
  readonly #upsert: Statement<[{ id: string; pool: string; at: string }]>;
  readonly #selectAll: Statement<[], { id: string; pool: string }>;
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
    this.#upsert = db.prepare(
      `INSERT INTO process_pools (process_id, pool, since) VALUES (@id, @pool, @at)
       ON CONFLICT (process_id) DO UPDATE SET pool = excluded.pool, since = excluded.since`,
    );
    this.#selectAll = db.prepare('SELECT process_id AS id, pool FROM process_pools');
  }

  async set(processIds: readonly string[], pool: string, at = new Date()): Promise<void> {
    this.#db.transaction(() => {
      for (const id of processIds) this.#upsert.run({ id, pool, at: at.toISOString() });
    })();
  }

  /** One orchestrator per SQLite file: only its own registry claims. */
  onStored(): void {}

  async all(): Promise<Map<string, string>> {
    return new Map(this.#selectAll.all().map(({ id, pool }) => [id, pool]));
  }
}

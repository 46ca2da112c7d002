import type { Queryable } from './postgres-pool.js';

/**
 * The keep time each process asked for (table `process_retention`), which new jobs take. Read once
 * when opened; each change is written in the order made, one after the other, and a failed
 * write is reported to `onError` (the next change of that process writes it again).
 */
export class PostgresProcessKeeps {
  #writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: Queryable,
    private readonly known: Map<string, number>,
    private readonly onError: (error: Error) => void,
  ) {}

  static async load(db: Queryable, onError: (error: Error) => void): Promise<PostgresProcessKeeps> {
    const { rows } = await db.query<{ id: string; seconds: number }>('SELECT process_id AS id, keep_seconds AS seconds FROM process_retention');
    return new PostgresProcessKeeps(db, new Map(rows.map(({ id, seconds }) => [id, seconds])), onError);
  }

  processKeeps(): Map<string, number> {
    return new Map(this.known);
  }

  setProcessKeep(processId: string, seconds: number | undefined): void {
    if (seconds === undefined) this.known.delete(processId);
    else this.known.set(processId, seconds);
    this.#writes = this.#writes.then(() => this.#write(processId, seconds)).catch(this.onError);
  }

  /** Resolves once every change made so far is written. */
  settled(): Promise<void> {
    return this.#writes;
  }

  async #write(processId: string, seconds: number | undefined): Promise<void> {
    if (seconds === undefined) await this.db.query('DELETE FROM process_retention WHERE process_id = $1', [processId]);
    else {
      await this.db.query(
        `INSERT INTO process_retention (process_id, keep_seconds) VALUES ($1, $2)
         ON CONFLICT (process_id) DO UPDATE SET keep_seconds = excluded.keep_seconds`,
        [processId, seconds],
      );
    }
  }
}

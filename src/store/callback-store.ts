import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';

export type CallbackKind = 'success' | 'in-progress' | 'failed';

/** One POST to a subscriber's URI, waiting to be made (times in epoch milliseconds). */
export interface CallbackDelivery {
  id: number;
  jobId: string;
  kind: CallbackKind;
  uri: string;
  body: string;
  attempts: number;
  nextAt: number;
  created: number;
}

const COLUMNS = 'id, job_id AS jobId, kind, uri, body, attempts, next_at AS nextAt, created';

/** Callback deliveries kept until made or given up, so that an orchestrator restart loses none; on either engine. */
export interface CallbackStoreApi {
  add(jobId: string, kind: Exclude<CallbackKind, 'in-progress'>, uri: string, body: string, at: number): Promise<void>;
  /** Newer progress replaces a delivery not yet made, keeping its place. */
  progress(jobId: string, uri: string, body: string, at: number): Promise<void>;
  /** Deliveries due at `now`, each job's oldest only; on PostgreSQL, taken from the other orchestrators for a while. */
  due(now: number, limit: number): Promise<CallbackDelivery[]>;
  /** When the next delivery is due, if any is waiting. */
  nextDue(): Promise<number | undefined>;
  retryAt(id: number, at: number): Promise<void>;
  remove(id: number): Promise<void>;
  /** Done with a delivery that was made, unless newer progress replaced its body meanwhile: that one is still owed. */
  delivered(id: number, body: string): Promise<void>;
}

/** The callback deliveries in SQLite. */
export class CallbackStore implements CallbackStoreApi {
  readonly #insert: Statement<[{ jobId: string; kind: CallbackKind; uri: string; body: string; at: number }]>;
  readonly #progress: Statement<[{ jobId: string; uri: string; body: string; at: number }]>;
  readonly #dropProgress: Statement<[string]>;
  readonly #due: Statement<[{ now: number; limit: number }], CallbackDelivery>;
  readonly #next: Statement<[], { nextAt: number | null }>;
  readonly #retry: Statement<[{ id: number; at: number }]>;
  readonly #delete: Statement<[number]>;
  readonly #deliveredBody: Statement<[{ id: number; body: string }]>;

  constructor(db: Database) {
    this.#insert = db.prepare('INSERT INTO callbacks (job_id, kind, uri, body, next_at, created) VALUES (@jobId, @kind, @uri, @body, @at, @at)');
    // Newer progress replaces a delivery not yet made (or under way: see `delivered`), keeping its place.
    this.#progress = db.prepare(
      `INSERT INTO callbacks (job_id, kind, uri, body, next_at, created) VALUES (@jobId, 'in-progress', @uri, @body, @at, @at)
       ON CONFLICT (job_id) WHERE kind = 'in-progress' DO UPDATE SET body = excluded.body, uri = excluded.uri, next_at = max(next_at, excluded.next_at)`,
    );
    this.#dropProgress = db.prepare(`DELETE FROM callbacks WHERE job_id = ? AND kind = 'in-progress'`);
    // A job's deliveries go out in the order they were made: only its oldest one is ever due.
    this.#due = db.prepare(
      `SELECT ${COLUMNS} FROM callbacks c
       WHERE next_at <= @now AND id = (SELECT min(id) FROM callbacks WHERE job_id = c.job_id)
       ORDER BY next_at, id LIMIT @limit`,
    );
    this.#next = db.prepare('SELECT min(next_at) AS nextAt FROM callbacks');
    this.#retry = db.prepare('UPDATE callbacks SET attempts = attempts + 1, next_at = @at WHERE id = @id');
    this.#delete = db.prepare('DELETE FROM callbacks WHERE id = ?');
    this.#deliveredBody = db.prepare('DELETE FROM callbacks WHERE id = @id AND body = @body');
  }

  async add(jobId: string, kind: Exclude<CallbackKind, 'in-progress'>, uri: string, body: string, at: number): Promise<void> {
    // The final word makes progress nobody has heard yet pointless.
    this.#dropProgress.run(jobId);
    this.#insert.run({ jobId, kind, uri, body, at });
  }

  async progress(jobId: string, uri: string, body: string, at: number): Promise<void> {
    this.#progress.run({ jobId, uri, body, at });
  }

  async due(now: number, limit: number): Promise<CallbackDelivery[]> {
    return this.#due.all({ now, limit });
  }

  async nextDue(): Promise<number | undefined> {
    return this.#next.get()?.nextAt ?? undefined;
  }

  async retryAt(id: number, at: number): Promise<void> {
    this.#retry.run({ id, at });
  }

  async remove(id: number): Promise<void> {
    this.#delete.run(id);
  }

  async delivered(id: number, body: string): Promise<void> {
    this.#deliveredBody.run({ id, body });
  }
}

import type { JobStoreApi } from '../job-store-api.js';
import { jobStatements, type JobStatements } from './postgres-job-statements.js';
import type { Pool } from './postgres-pool.js';

/**
 * `JobStoreApi` on PostgreSQL. Each statement outside a transaction runs on any connection of the
 * pool; a transaction holds one connection from BEGIN to COMMIT. Unlike SQLite, statements from
 * outside do not wait for a transaction: they see the rows as last committed, and a conditional
 * write that meets a row the transaction holds waits for its end, then checks its condition again.
 */
export class PostgresJobStore implements JobStoreApi {
  readonly #pool: Pool;
  readonly #clock: () => Date;
  readonly #direct: JobStatements;

  constructor(pool: Pool, clock: () => Date = () => new Date()) {
    this.#pool = pool;
    this.#clock = clock;
    this.#direct = jobStatements(pool, clock);
  }

  get: JobStoreApi['get'] = (id) => this.#direct.get(id);
  list: JobStoreApi['list'] = (filter) => this.#direct.list(filter);
  assignedPerAgent: JobStoreApi['assignedPerAgent'] = () => this.#direct.assignedPerAgent();
  unfinished: JobStoreApi['unfinished'] = () => this.#direct.unfinished();
  create: JobStoreApi['create'] = (job, digest) => this.#direct.create(job, digest);
  assign: JobStoreApi['assign'] = (id, agent, digest) => this.#direct.assign(id, agent, digest);
  markRunning: JobStoreApi['markRunning'] = (id, agent, at, back) => this.#direct.markRunning(id, agent, at, back);
  note: JobStoreApi['note'] = (id, message) => this.#direct.note(id, message);
  recordProgress: JobStoreApi['recordProgress'] = (id, seq, progress, message) => this.#direct.recordProgress(id, seq, progress, message);
  finish: JobStoreApi['finish'] = (id, seq, outcome) => this.#direct.finish(id, seq, outcome);
  remove: JobStoreApi['remove'] = (id) => this.#direct.remove(id);
  /** Finding the expired jobs and deleting them is one transaction, as in SQLite. */
  expire: JobStoreApi['expire'] = (keepMs, now, limit) => this.transaction((store) => store.expire(keepMs, now, limit));

  async transaction<T>(fn: (store: JobStoreApi) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    const inside: JobStoreApi = {
      ...jobStatements(client, this.#clock),
      transaction: () => Promise.reject(new Error('transactions do not nest')),
    };
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(inside);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot even roll back is not given back to the pool.
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

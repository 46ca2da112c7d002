import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';
import type { JobStoreApi } from './job-store-api.js';
import { JobRetention } from './job-retention.js';
import { JobStore } from './job-store.js';

type Statements = Omit<JobStoreApi, 'transaction'>;

/** The statements themselves, run at once: what a transaction's body writes through. */
function statements(rows: JobStore, retention: JobRetention): Statements {
  return {
    get: async (id) => rows.get(id),
    list: async (filter) => rows.list(filter),
    assignedPerAgent: async () => rows.assignedPerAgent(),
    unfinished: async () => rows.unfinished(),
    create: async (job, digest) => rows.create(job, digest),
    assign: async (id, agent, digest) => rows.setAgent(id, agent, digest),
    markRunning: async (id, agent, startedAt, back) => rows.markRunning(id, agent, startedAt, back),
    note: async (id, message) => rows.note(id, message),
    recordProgress: async (id, seq, progress, message) => rows.progress(id, seq, progress, message),
    finish: async (id, seq, outcome) => rows.finish(id, seq, outcome),
    remove: async (id) => rows.remove(id),
    expire: async (keepMs, now, limit) => retention.expire(keepMs, now, limit),
  };
}

/**
 * `JobStoreApi` on SQLite. better-sqlite3 is synchronous, so each statement has run by the time
 * its promise is returned. A transaction holds the one connection: statements from outside it
 * wait until it has ended, so a rollback never takes anyone else's write with it.
 */
export class SqliteJobStore implements JobStoreApi {
  /** The same rows, read synchronously: for tools and tests that look at jobs from outside. */
  readonly rows: JobStore;
  /** Which finished jobs are past their keep time, and the keep times of processes. */
  readonly retention: JobRetention;
  readonly #db: Database;
  readonly #direct: Statements;
  /** Prepared once: a transaction per turn of the event loop must not parse its SQL each time. */
  readonly #begin: Statement;
  readonly #commit: Statement;
  readonly #rollback: Statement;
  #idle: Promise<unknown> = Promise.resolve();

  constructor(db: Database, clock?: () => Date) {
    this.#db = db;
    this.rows = new JobStore(db, clock);
    this.retention = new JobRetention(db);
    this.#direct = statements(this.rows, this.retention);
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
  }

  get: JobStoreApi['get'] = (id) => this.#whenIdle(() => this.#direct.get(id));
  list: JobStoreApi['list'] = (filter) => this.#whenIdle(() => this.#direct.list(filter));
  assignedPerAgent: JobStoreApi['assignedPerAgent'] = () => this.#whenIdle(() => this.#direct.assignedPerAgent());
  unfinished: JobStoreApi['unfinished'] = () => this.#whenIdle(() => this.#direct.unfinished());
  create: JobStoreApi['create'] = (job, digest) => this.#whenIdle(() => this.#direct.create(job, digest));
  assign: JobStoreApi['assign'] = (id, agent, digest) => this.#whenIdle(() => this.#direct.assign(id, agent, digest));
  markRunning: JobStoreApi['markRunning'] = (id, agent, at, back) => this.#whenIdle(() => this.#direct.markRunning(id, agent, at, back));
  note: JobStoreApi['note'] = (id, message) => this.#whenIdle(() => this.#direct.note(id, message));
  recordProgress: JobStoreApi['recordProgress'] = (id, seq, progress, message) =>
    this.#whenIdle(() => this.#direct.recordProgress(id, seq, progress, message));
  finish: JobStoreApi['finish'] = (id, seq, outcome) => this.#whenIdle(() => this.#direct.finish(id, seq, outcome));
  remove: JobStoreApi['remove'] = (id) => this.#whenIdle(() => this.#direct.remove(id));
  expire: JobStoreApi['expire'] = (keepMs, now, limit) => this.#whenIdle(() => this.#direct.expire(keepMs, now, limit));

  /** `fn` must write through the store it is given; calling this store from inside would wait for itself. */
  transaction<T>(fn: (store: JobStoreApi) => Promise<T>): Promise<T> {
    const inside: JobStoreApi = {
      ...this.#direct,
      transaction: () => Promise.reject(new Error('transactions do not nest')),
    };
    const run = this.#whenIdle(async () => {
      this.#begin.run();
      try {
        const result = await fn(inside);
        this.#commit.run();
        return result;
      } catch (error) {
        // SQLite has already rolled back after some errors (SQLITE_FULL, I/O errors): the original error is the one to report.
        if (this.#db.inTransaction) this.#rollback.run();
        throw error;
      }
    });
    this.#idle = run.catch(() => undefined);
    return run;
  }

  #whenIdle<T>(statement: () => Promise<T>): Promise<T> {
    return this.#idle.then(statement);
  }
}

import { openDatabase } from '../../src/store/database.js';
import type { JobStoreApi } from '../../src/store/job-store-api.js';
import { PostgresJobStore } from '../../src/store/postgres/postgres-job-store.js';
import { openPostgres, type Pool } from '../../src/store/postgres/postgres-pool.js';
import { PostgresProcessKeeps } from '../../src/store/postgres/postgres-process-keeps.js';
import { PostgresUploadTokens } from '../../src/store/postgres/postgres-upload-tokens.js';
import { SqliteJobStore } from '../../src/store/sqlite-job-store.js';
import { UploadTokens, type UploadTokenStore } from '../../src/store/upload-tokens.js';
import { postgresOrSkip, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { openTempDatabase } from '../helpers/temp-database.js';

/** One store on a fresh database, with what the contract needs besides the job store itself. */
export interface StoreUnderTest {
  jobs: JobStoreApi;
  uploadTokens: UploadTokenStore;
  /** Records a process's own keep time; resolves once new jobs take it. */
  setProcessKeep(processId: string, seconds: number | undefined): Promise<void>;
  processKeeps(): Map<string, number>;
  /** Closes the database and opens it again: what a restarted orchestrator finds. */
  reopen(): Promise<JobStoreApi>;
  dispose(): Promise<void>;
}

export interface Backend {
  name: string;
  /** The store's own words when a job id is taken. */
  duplicateIdError: RegExp;
  /** Skips the suite, saying why, when the backend cannot run here; called in a `before` hook. */
  skipUnavailable(context: Mocha.Context): Promise<void>;
  open(clock: () => Date): Promise<StoreUnderTest>;
}

const sqlite: Backend = {
  name: 'SQLite',
  duplicateIdError: /^UNIQUE constraint failed: jobs\.id$/,
  skipUnavailable: async () => undefined,
  async open(clock) {
    const temp = await openTempDatabase();
    let db = temp.db;
    let jobs = new SqliteJobStore(db, clock);
    return {
      get jobs() {
        return jobs;
      },
      uploadTokens: new UploadTokens(db),
      setProcessKeep: async (processId, seconds) => jobs.retention.setProcessKeep(processId, seconds),
      processKeeps: () => jobs.retention.processKeeps(),
      async reopen() {
        db.close();
        db = openDatabase(temp.file);
        jobs = new SqliteJobStore(db, clock);
        return jobs;
      },
      async dispose() {
        if (db.open) db.close();
        await temp.dispose();
      },
    };
  },
};

/** Started at the first PostgreSQL case of the run, stopped after the last. */
let cluster: Promise<TestPostgres | { reason: string }> | undefined;
export const sharedPostgres = () => (cluster ??= startTestPostgres());
/**
 * One database and pool for every case, emptied before each: ten times faster than a database
 * per case. A case that reopens the database gets a pool of its own.
 */
let shared: Promise<{ url: string; pool: Pool }> | undefined;
after(async () => {
  await (await shared)?.pool.end();
  const started = await cluster;
  if (started && 'stop' in started) await started.stop();
});

const postgres: Backend = {
  name: 'PostgreSQL',
  duplicateIdError: /^duplicate key value violates unique constraint "jobs_pkey"$/,
  async skipUnavailable(context) {
    postgresOrSkip(context, await sharedPostgres());
  },
  async open(clock) {
    shared ??= (async () => {
      const url = await ((await cluster) as TestPostgres).createDatabase();
      return { url, pool: await openPostgres(url) };
    })();
    const { url, pool } = await shared;
    await pool.query('TRUNCATE jobs, process_retention, callbacks');
    let jobs = new PostgresJobStore(pool, clock);
    let reopened: Pool | undefined;
    const keeps = await PostgresProcessKeeps.load(pool, (error) => {
      throw error;
    });
    return {
      get jobs() {
        return jobs;
      },
      uploadTokens: new PostgresUploadTokens(pool),
      async setProcessKeep(processId, seconds) {
        keeps.setProcessKeep(processId, seconds);
        await keeps.settled();
      },
      processKeeps: () => keeps.processKeeps(),
      async reopen() {
        reopened = await openPostgres(url);
        jobs = new PostgresJobStore(reopened, clock);
        return jobs;
      },
      dispose: async () => reopened?.end(),
    };
  },
};

export const BACKENDS: readonly Backend[] = [sqlite, postgres];

/**
 * Declares `cases` once per backend, each run against a fresh store whose clock reads `now()`.
 * A backend that cannot run here is skipped, with its reason printed.
 */
export function forEachStore(title: string, cases: (subject: () => StoreUnderTest, backend: Backend) => void): void {
  for (const backend of BACKENDS) {
    describe(`${title} (${backend.name})`, function () {
      let subject: StoreUnderTest | undefined;
      before(async function () {
        await backend.skipUnavailable(this);
      });
      beforeEach(async () => {
        subject = await backend.open(() => new Date(clock.now));
      });
      afterEach(() => subject?.dispose());
      cases(() => subject!, backend);
    });
  }
}

/** The time every store under test reads; cases set it. */
export const clock = { now: 0 };

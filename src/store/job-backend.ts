import type { Logger } from 'pino';
import type { Database } from './database.js';
import type { JobStoreApi } from './job-store-api.js';
import { PostgresJobStore } from './postgres/postgres-job-store.js';
import { openPostgres, redactedUrl, type Pool } from './postgres/postgres-pool.js';
import { PostgresProcessKeeps } from './postgres/postgres-process-keeps.js';
import { PostgresUploadTokens } from './postgres/postgres-upload-tokens.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { UploadTokens, type UploadTokenStore } from './upload-tokens.js';

/** Where jobs are kept, with what lives in their rows: upload tokens and the keep times of processes. */
export interface JobBackend {
  jobStore: JobStoreApi;
  /** The SQLite store, when jobs are kept there: tests and tools read its rows synchronously. */
  sqlite?: SqliteJobStore;
  /** The connection pool, when jobs are kept in PostgreSQL: every other record is kept there too, and several orchestrators share it (docs/scale-out.md §3). */
  postgres?: Pool;
  uploadTokens: UploadTokenStore;
  processKeeps: { processKeeps(): Map<string, number>; setProcessKeep(processId: string, seconds: number | undefined): void };
  close(): Promise<void>;
}

/**
 * Jobs in the data directory's SQLite database, or with `databaseUrl` in PostgreSQL (docs/decisions.md,
 * Scale-out). `instance` names this orchestrator in PostgreSQL's sessions (docs/scale-out.md §3).
 */
export async function openJobBackend(db: Database, databaseUrl: string | undefined, logger: Logger, instance?: string): Promise<JobBackend> {
  if (databaseUrl === undefined) {
    const sqlite = new SqliteJobStore(db);
    return { jobStore: sqlite, sqlite, uploadTokens: new UploadTokens(db), processKeeps: sqlite.retention, close: async () => undefined };
  }
  const pool = await openPostgres(databaseUrl, undefined, instance);
  const processKeeps = await PostgresProcessKeeps.load(pool, (err) =>
    logger.error({ err: err.message }, 'the keep time of a process could not be stored; it is written again when it changes'),
  );
  logger.info({ database: redactedUrl(databaseUrl) }, 'jobs, users, agent accounts, the audit log and callbacks are kept in PostgreSQL');
  return {
    postgres: pool,
    jobStore: new PostgresJobStore(pool),
    uploadTokens: new PostgresUploadTokens(pool),
    processKeeps,
    close: async () => {
      await processKeeps.settled();
      await pool.end();
    },
  };
}

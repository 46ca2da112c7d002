import path from 'node:path';
import type { Logger } from 'pino';
import { AgentAccounts, type AgentAccountsApi } from './agent-accounts.js';
import { AgentStore, type AgentStoreApi } from './agent-store.js';
import { AuditStore, type AuditStoreApi } from './audit-store.js';
import { CallbackStore, type CallbackStoreApi } from './callback-store.js';
import { openDataDirDatabase, openDatabase, type Database } from './database.js';
import { DrainedAccounts, type DrainedAccountsApi } from './drained-accounts.js';
import { openJobBackend, type JobBackend } from './job-backend.js';
import { ChangeFeed } from './postgres/change-feed.js';
import { PostgresAgentAccounts } from './postgres/postgres-agent-accounts.js';
import { PostgresAuditStore } from './postgres/postgres-audit-store.js';
import { PostgresCallbackStore } from './postgres/postgres-callback-store.js';
import { openPostgres, type Pool } from './postgres/postgres-pool.js';
import { PostgresAgentStore, PostgresDrainedAccounts, PostgresProcessPools } from './postgres/postgres-registry-records.js';
import { PostgresUserStore } from './postgres/postgres-user-store.js';
import { ProcessPools, type ProcessPoolsApi } from './process-pools.js';
import { UserStore, type UserStoreApi } from './user-store.js';

/** What the orchestrator keeps besides jobs, on one engine. */
export interface Records {
  users: UserStoreApi;
  agentAccounts: AgentAccountsApi;
  processPools: ProcessPoolsApi;
  drainedAccounts: DrainedAccountsApi;
  agents: AgentStoreApi;
  audit: AuditStoreApi;
  callbacks: CallbackStoreApi;
  close(): Promise<void>;
}

/** Everything the orchestrator keeps: jobs and the rest, on the engine the configuration chose. */
export interface Stores extends Records {
  jobs: JobBackend;
  /** The data directory's SQLite database, open on either engine: result and input files stay beside it. */
  db: Database;
}

/** Every record but jobs in the SQLite database `db`. */
export function sqliteRecords(db: Database): Records {
  return {
    users: new UserStore(db),
    agentAccounts: new AgentAccounts(db),
    processPools: new ProcessPools(db),
    drainedAccounts: new DrainedAccounts(db),
    agents: new AgentStore(db),
    audit: new AuditStore(db),
    callbacks: new CallbackStore(db),
    close: async () => undefined,
  };
}

/**
 * Every record but jobs in PostgreSQL, on `pool`; what is read on every request or stanza (users,
 * tokens, agent accounts) kept in memory and refreshed through a change feed on `url`.
 */
export async function postgresRecords(pool: Pool, url: string, onError: (error: Error) => void): Promise<Records> {
  const changes = await ChangeFeed.open(url, onError);
  try {
    return {
      users: await PostgresUserStore.open(pool, changes),
      agentAccounts: await PostgresAgentAccounts.open(pool, changes),
      processPools: new PostgresProcessPools(pool, changes),
      drainedAccounts: new PostgresDrainedAccounts(pool, changes),
      agents: new PostgresAgentStore(pool),
      audit: new PostgresAuditStore(pool),
      callbacks: new PostgresCallbackStore(pool),
      close: () => changes.close(),
    };
  } catch (error) {
    await changes.close();
    throw error;
  }
}

/**
 * The records a command run beside the server changes (`outpost agent`, `outpost token`): in the
 * data directory's SQLite database, or with `database` in PostgreSQL, where every orchestrator on
 * it sees the change as soon as it is made.
 */
export async function openCommandRecords(dataDir: string, database: string | undefined): Promise<Records> {
  if (database === undefined) {
    const db = openDataDirDatabase(dataDir);
    return {
      ...sqliteRecords(db),
      close: async () => {
        db.close();
      },
    };
  }
  const pool = await openPostgres(database);
  const records = await postgresRecords(pool, database, () => undefined).catch(async (error: unknown) => {
    await pool.end();
    throw error;
  });
  return {
    ...records,
    async close() {
      await records.close();
      await pool.end();
    },
  };
}

/**
 * Opens every store: all in the data directory's SQLite database, or with `database` (a
 * postgres:// URL) all in PostgreSQL, shared by every orchestrator on it (docs/decisions.md,
 * Scale-out), where `instance` names this one's sessions.
 */
export async function openStores(options: { dataDir: string; database?: string | undefined; instance?: string }, logger: Logger): Promise<Stores> {
  const db = openDatabase(path.join(options.dataDir, 'outpost.db'));
  try {
    const jobs = await openJobBackend(db, options.database, logger, options.instance);
    const records = jobs.postgres && options.database !== undefined ? await postgresRecords(jobs.postgres, options.database, (err) => logger.error({ err: err.message }, 'a change made by another orchestrator could not be read')).catch(async (error: unknown) => {
      await jobs.close();
      throw error;
    }) : sqliteRecords(db);
    return {
      ...records,
      jobs,
      db,
      async close() {
        await records.close();
        await jobs.close();
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

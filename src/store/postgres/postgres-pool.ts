import pg from 'pg';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';

export type Pool = pg.Pool;
/** A pool or one client taken from it: where a statement runs. */
export type Queryable = Pick<pg.Pool, 'query'>;

/** Any number that locks migrations against each other, the same in every orchestrator. */
const MIGRATION_LOCK = 0x6f757470;

/** The URL with its password left out, for messages. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}

/**
 * A connection pool to the database at `url` with its schema brought up to date. Fails with a
 * one-line error when the database cannot be reached or is newer than this Outpost.
 * `migrations` is only replaced by tests of the migration mechanism itself. `instance` names the
 * orchestrator in its sessions (`outpost.instance`, and `application_name`), so that the jobs it
 * hands out say who did, and a dispatcher that takes over can end its predecessor's sessions.
 */
export async function openPostgres(url: string, migrations: readonly string[] = POSTGRES_MIGRATIONS, instance?: string): Promise<Pool> {
  const named = instance !== undefined && { application_name: `outpost ${instance}`, options: `-c outpost.instance=${instance}` };
  const pool = new pg.Pool({ connectionString: url, application_name: 'outpost', ...named });
  // An idle client's error (the server restarted) is the pool's to drop; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    await migrate(pool, migrations, url);
    return pool;
  } catch (error) {
    await pool.end();
    if (error instanceof SchemaTooNew) throw error;
    throw new Error(`database ${redactedUrl(url)}: ${(error as Error).message}`);
  }
}

class SchemaTooNew extends Error {}

/**
 * Every step in one transaction under an advisory lock, so that orchestrators starting together
 * on a new database apply each step once.
 */
function migrate(pool: Pool, migrations: readonly string[], url: string): Promise<void> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    const current = rows[0]?.version ?? 0;
    if (current > migrations.length) {
      throw new SchemaTooNew(
        `database ${redactedUrl(url)} has schema version ${current} but this version of Outpost knows only up to ${migrations.length}; ` +
          'run a newer Outpost or use another database',
      );
    }
    for (const [index, sql] of migrations.entries()) {
      if (index < current) continue;
      await client.query(sql);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [index + 1]);
    }
  });
}

/** Runs `fn` on one connection of the pool between BEGIN and COMMIT; its error rolls everything back. */
export async function inTransaction<T>(pool: Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

import type { AgentStoreApi, KnownAgent } from '../agent-store.js';
import type { DrainedAccountsApi } from '../drained-accounts.js';
import type { ProcessPoolsApi } from '../process-pools.js';
import type { Queryable } from './postgres-pool.js';

/** The process pools of src/store/process-pools.ts in PostgreSQL. */
export class PostgresProcessPools implements ProcessPoolsApi {
  constructor(private readonly db: Queryable) {}

  async set(processIds: readonly string[], pool: string, at = new Date()): Promise<void> {
    await this.db.query(
      `INSERT INTO process_pools (process_id, pool, since) SELECT DISTINCT id, $2::text, $3::text FROM unnest($1::text[]) AS claimed (id)
       ON CONFLICT (process_id) DO UPDATE SET pool = excluded.pool, since = excluded.since`,
      [processIds, pool, at.toISOString()],
    );
  }

  async all(): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ id: string; pool: string }>('SELECT process_id AS id, pool FROM process_pools');
    return new Map(rows.map(({ id, pool }) => [id, pool]));
  }
}

/** The drained accounts of src/store/drained-accounts.ts in PostgreSQL. */
export class PostgresDrainedAccounts implements DrainedAccountsApi {
  constructor(private readonly db: Queryable) {}

  async set(account: string, drained: boolean, at = new Date()): Promise<void> {
    if (drained) await this.db.query('INSERT INTO drained_accounts (jid, since) VALUES ($1, $2) ON CONFLICT (jid) DO NOTHING', [account, at.toISOString()]);
    else await this.db.query('DELETE FROM drained_accounts WHERE jid = $1', [account]);
  }

  async all(): Promise<Set<string>> {
    const { rows } = await this.db.query<{ jid: string }>('SELECT jid FROM drained_accounts');
    return new Set(rows.map(({ jid }) => jid));
  }
}

/** The agents seen, of src/store/agent-store.ts, in PostgreSQL. */
export class PostgresAgentStore implements AgentStoreApi {
  constructor(private readonly db: Queryable) {}

  async remember(jid: string, at: Date): Promise<void> {
    // greatest() keeps the newest sighting when reports arrive out of order.
    await this.db.query(
      `INSERT INTO agents (jid, last_seen) VALUES ($1, $2) ON CONFLICT (jid) DO UPDATE SET last_seen = greatest(agents.last_seen, excluded.last_seen)`,
      [jid, at.toISOString()],
    );
  }

  async known(): Promise<KnownAgent[]> {
    const { rows } = await this.db.query<KnownAgent>('SELECT jid, last_seen AS "lastSeen" FROM agents ORDER BY last_seen DESC, jid COLLATE "C"');
    return rows;
  }
}

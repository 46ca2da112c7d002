import type { AgentStoreApi, KnownAgent } from '../agent-store.js';
import type { DrainedAccountsApi } from '../drained-accounts.js';
import type { ProcessPoolsApi } from '../process-pools.js';
import { ALL_ROWS, announce, type ChangeFeed } from './change-feed.js';
import type { Queryable } from './postgres-pool.js';
import { SerialWrites } from './serial-writes.js';

/**
 * The process pools of src/store/process-pools.ts in PostgreSQL. Writes go one after the other, in
 * the order the registry made the claims, so that the last claim is the one kept; each announces
 * its pool, and the claims of that pool are handed to `onStored` listeners on every orchestrator.
 */
export class PostgresProcessPools implements ProcessPoolsApi {
  readonly #listeners: ((claims: Map<string, string>) => void)[] = [];
  readonly #writes = new SerialWrites();

  constructor(
    private readonly db: Queryable,
    changes: ChangeFeed,
  ) {
    changes.on('process_pools', async (pool) => {
      const claims = await this.#claims(pool === ALL_ROWS ? undefined : pool);
      for (const listener of this.#listeners) listener(claims);
    });
  }

  async set(processIds: readonly string[], pool: string, at = new Date()): Promise<void> {
    await this.#writes.run(() =>
      this.db.query(
        `WITH claimed AS (
           INSERT INTO process_pools (process_id, pool, since) SELECT DISTINCT id, $2::text, $3::text FROM unnest($1::text[]) AS claimed (id)
           ON CONFLICT (process_id) DO UPDATE SET pool = excluded.pool, since = excluded.since
         )
         SELECT ${announce('process_pools', '$2::text')}`,
        [processIds, pool, at.toISOString()],
      ),
    );
  }

  all(): Promise<Map<string, string>> {
    return this.#claims(undefined);
  }

  onStored(listener: (claims: Map<string, string>) => void): void {
    this.#listeners.push(listener);
  }

  async #claims(pool: string | undefined): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ id: string; pool: string }>(
      `SELECT process_id AS id, pool FROM process_pools${pool === undefined ? '' : ' WHERE pool = $1'}`,
      pool === undefined ? [] : [pool],
    );
    return new Map(rows.map(({ id, pool: owner }) => [id, owner]));
  }
}

/** The drained accounts of src/store/drained-accounts.ts in PostgreSQL; each change is announced to every orchestrator. */
export class PostgresDrainedAccounts implements DrainedAccountsApi {
  readonly #listeners: ((account: string, drained: boolean) => void)[] = [];
  /** The accounts drained as last read, so that a reload of the whole table tells the undrained ones too. */
  readonly #drained = new Set<string>();
  readonly #writes = new SerialWrites();

  constructor(
    private readonly db: Queryable,
    changes: ChangeFeed,
  ) {
    changes.on('drained_accounts', async (jid) => {
      const { rows } = await this.db.query<{ jid: string }>(`SELECT jid FROM drained_accounts${jid === ALL_ROWS ? '' : ' WHERE jid = $1'}`, jid === ALL_ROWS ? [] : [jid]);
      const listed = new Set(rows.map((row) => row.jid));
      const accounts = jid === ALL_ROWS ? new Set([...this.#drained, ...listed]) : [jid];
      for (const account of accounts) {
        const drained = listed.has(account);
        if (drained) this.#drained.add(account);
        else this.#drained.delete(account);
        for (const listener of this.#listeners) listener(account, drained);
      }
    });
  }

  async set(account: string, drained: boolean, at = new Date()): Promise<void> {
    const [change, params] = drained
      ? ['INSERT INTO drained_accounts (jid, since) VALUES ($1, $2) ON CONFLICT (jid) DO NOTHING RETURNING jid', [account, at.toISOString()]]
      : ['DELETE FROM drained_accounts WHERE jid = $1 RETURNING jid', [account]];
    await this.#writes.run(() => this.db.query(`WITH changed AS (${change}) SELECT ${announce('drained_accounts', 'jid')} FROM changed`, params));
  }

  async all(): Promise<Set<string>> {
    const { rows } = await this.db.query<{ jid: string }>('SELECT jid FROM drained_accounts');
    for (const { jid } of rows) this.#drained.add(jid);
    return new Set(rows.map(({ jid }) => jid));
  }

  onStored(listener: (account: string, drained: boolean) => void): void {
    this.#listeners.push(listener);
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

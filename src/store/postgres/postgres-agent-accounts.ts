import type { AgentAccount, AgentAccountsApi } from '../agent-accounts.js';
import { ALL_ROWS, announce, type ChangeFeed } from './change-feed.js';
import type { Queryable } from './postgres-pool.js';

const COLUMNS = 'jid, pool, created, revoked';
// Adding an account again (e.g. after a revocation) gives it the new pool and makes it active.
const UPSERT = `INSERT INTO agent_accounts (jid, pool, created) SELECT jid, pool, $3::text FROM unnest($1::text[], $2::text[]) AS added (jid, pool)
  ON CONFLICT (jid) DO UPDATE SET pool = excluded.pool, created = excluded.created, revoked = NULL`;

/**
 * The agent accounts of src/store/agent-accounts.ts in PostgreSQL, kept in memory (read per
 * stanza) and reloaded as the change feed reports other orchestrators' and commands' writes.
 */
export class PostgresAgentAccounts implements AgentAccountsApi {
  readonly #accounts = new Map<string, AgentAccount>();

  private constructor(private readonly db: Queryable) {}

  static async open(db: Queryable, changes: ChangeFeed): Promise<PostgresAgentAccounts> {
    const store = new PostgresAgentAccounts(db);
    changes.on('agent_accounts', (jid) => store.#reload(jid));
    await store.#reload(ALL_ROWS);
    return store;
  }

  async add(jid: string, pool: string, at = new Date()): Promise<AgentAccount> {
    await this.db.query(`WITH added AS (${UPSERT} RETURNING jid) SELECT ${announce('agent_accounts', 'jid')} FROM added`, [[jid], [pool], at.toISOString()]);
    await this.#reload(jid);
    return this.#accounts.get(jid)!;
  }

  async addMany(accounts: readonly { jid: string; pool: string }[], at = new Date()): Promise<void> {
    // One statement may not change a row twice: the last entry of a JID wins, as one after the other would.
    const pools = new Map(accounts.map(({ jid, pool }) => [jid, pool]));
    await this.db.query(`WITH added AS (${UPSERT}) SELECT ${announce('agent_accounts', `'${ALL_ROWS}'`)}`, [[...pools.keys()], [...pools.values()], at.toISOString()]);
    await this.#reload(ALL_ROWS);
  }

  async revoke(jid: string, at = new Date()): Promise<boolean> {
    const { rows } = await this.db.query(
      `WITH revoked AS (UPDATE agent_accounts SET revoked = $2 WHERE jid = $1 AND revoked IS NULL RETURNING jid)
       SELECT ${announce('agent_accounts', 'jid')} FROM revoked`,
      [jid, at.toISOString()],
    );
    await this.#reload(jid);
    return rows.length > 0;
  }

  poolOf(jid: string): string | undefined {
    const account = this.#accounts.get(jid);
    return account && account.revoked === null ? account.pool : undefined;
  }

  list(): AgentAccount[] {
    return [...this.#accounts.values()].sort((a, b) => (a.jid < b.jid ? -1 : 1));
  }

  async #reload(jid: string): Promise<void> {
    const all = jid === ALL_ROWS;
    const { rows } = await this.db.query<AgentAccount>(`SELECT ${COLUMNS} FROM agent_accounts${all ? '' : ' WHERE jid = $1'}`, all ? [] : [jid]);
    if (all) this.#accounts.clear();
    for (const row of rows) this.#accounts.set(row.jid, row);
  }
}

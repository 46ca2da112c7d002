import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';

/** An account provisioned as an agent (docs/security.md): only these act as agents by default. */
export interface AgentAccount {
  /** Bare JID, `name@domain`. */
  jid: string;
  pool: string;
  created: string;
  revoked: string | null;
}

const POOL_NAME = /^[A-Za-z0-9_.@-]{1,100}$/;

/** Why `pool` cannot name a pool, or undefined when it can. */
export function poolNameProblem(pool: string): string | undefined {
  return POOL_NAME.test(pool) ? undefined : `a pool name is 1 to 100 letters, digits, '_', '.', '@' or '-'; got '${pool}'`;
}

/**
 * Outpost's own record of the accounts it provisioned as agents, with their pools, on either
 * engine. `poolOf` is read for every stanza, so reads are synchronous; writes resolve once stored.
 */
export interface AgentAccountsApi {
  add(jid: string, pool: string, at?: Date): Promise<AgentAccount>;
  /** Adds many accounts in one transaction (`outpost agent add --count/--from`). */
  addMany(accounts: readonly { jid: string; pool: string }[], at?: Date): Promise<void>;
  /** Resolves false when there was no active account of that JID. */
  revoke(jid: string, at?: Date): Promise<boolean>;
  poolOf(jid: string): string | undefined;
  list(): AgentAccount[];
}

/** The agent accounts in SQLite, read at each call, so that another process's change counts at once. */
export class AgentAccounts implements AgentAccountsApi {
  readonly #upsert: Statement<[{ jid: string; pool: string; at: string }]>;
  readonly #revoke: Statement<[{ jid: string; at: string }]>;
  readonly #select: Statement<[string], AgentAccount>;
  readonly #selectAll: Statement<[], AgentAccount>;

  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
    // Adding an account again (e.g. after a revocation) gives it the new pool and makes it active.
    this.#upsert = db.prepare(
      `INSERT INTO agent_accounts (jid, pool, created) VALUES (@jid, @pool, @at)
       ON CONFLICT (jid) DO UPDATE SET pool = excluded.pool, created = excluded.created, revoked = NULL`,
    );
    this.#revoke = db.prepare('UPDATE agent_accounts SET revoked = @at WHERE jid = @jid AND revoked IS NULL');
    this.#select = db.prepare('SELECT jid, pool, created, revoked FROM agent_accounts WHERE jid = ?');
    this.#selectAll = db.prepare('SELECT jid, pool, created, revoked FROM agent_accounts ORDER BY jid');
  }

  async add(jid: string, pool: string, at = new Date()): Promise<AgentAccount> {
    this.#upsert.run({ jid, pool, at: at.toISOString() });
    return this.#select.get(jid)!;
  }

  async addMany(accounts: readonly { jid: string; pool: string }[], at = new Date()): Promise<void> {
    this.#db.transaction(() => {
      for (const { jid, pool } of accounts) this.#upsert.run({ jid, pool, at: at.toISOString() });
    })();
  }

  async revoke(jid: string, at = new Date()): Promise<boolean> {
    return this.#revoke.run({ jid, at: at.toISOString() }).changes > 0;
  }

  poolOf(jid: string): string | undefined {
    const account = this.#select.get(jid);
    return account && account.revoked === null ? account.pool : undefined;
  }

  list(): AgentAccount[] {
    return this.#selectAll.all();
  }
}

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

/** Outpost's own record of the accounts it provisioned as agents, with their pools. */
export class AgentAccounts {
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

  add(jid: string, pool: string, at = new Date()): AgentAccount {
    this.#upsert.run({ jid, pool, at: at.toISOString() });
    return this.#select.get(jid)!;
  }

  /** Adds many accounts in one transaction (`outpost agent add --count/--from`). */
  addMany(accounts: readonly { jid: string; pool: string }[], at = new Date()): void {
    this.#db.transaction(() => {
      for (const { jid, pool } of accounts) this.#upsert.run({ jid, pool, at: at.toISOString() });
    })();
  }

  /** Returns false when there was no active account of that JID. */
  revoke(jid: string, at = new Date()): boolean {
    return this.#revoke.run({ jid, at: at.toISOString() }).changes > 0;
  }

  /** The pool of an active account; undefined when the account is unknown or revoked. */
  poolOf(jid: string): string | undefined {
    const account = this.#select.get(jid);
    return account && account.revoked === null ? account.pool : undefined;
  }

  list(): AgentAccount[] {
    return this.#selectAll.all();
  }
}

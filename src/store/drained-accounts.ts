import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';

/** Agent accounts an admin drained, kept so that a restarted orchestrator gives them no new job either. */
export interface DrainedAccountsApi {
  set(account: string, drained: boolean, at?: Date): Promise<void>;
  all(): Promise<Set<string>>;
  /** Calls `listener` for each account whose drain any orchestrator on the database changed. */
  onStored(listener: (account: string, drained: boolean) => void): void;
}

/** The drained accounts in SQLite. */
export class DrainedAccounts implements DrainedAccountsApi {
  readonly #insert: Statement<[{ jid: string; at: string }]>;
  readonly #delete: Statement<[string]>;
  readonly #selectAll: Statement<[], { jid: string }>;

  constructor(db: Database) {
    this.#insert = db.prepare('INSERT INTO drained_accounts (jid, since) VALUES (@jid, @at) ON CONFLICT (jid) DO NOTHING');
    this.#delete = db.prepare('DELETE FROM drained_accounts WHERE jid = ?');
    this.#selectAll = db.prepare('SELECT jid FROM drained_accounts');
  }

  async set(account: string, drained: boolean, at = new Date()): Promise<void> {
    if (drained) this.#insert.run({ jid: account, at: at.toISOString() });
    else this.#delete.run(account);
  }

  /** One orchestrator per SQLite file: only its own registry drains. */
  onStored(): void {}

  async all(): Promise<Set<string>> {
    return new Set(this.#selectAll.all().map(({ jid }) => jid));
  }
}

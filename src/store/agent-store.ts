import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';

export interface KnownAgent {
  jid: string;
  lastSeen: string;
}

/** Agents seen so far, so that a restarted orchestrator can contact them again. */
export interface AgentStoreApi {
  remember(jid: string, at: Date): Promise<void>;
  /** Most recently seen first. */
  known(): Promise<KnownAgent[]>;
}

/** The agents seen, in SQLite. */
export class AgentStore implements AgentStoreApi {
  private readonly upsert: Statement<[{ jid: string; at: string }]>;
  private readonly selectAll: Statement<[], KnownAgent>;

  constructor(db: Database) {
    // max() keeps the newest sighting when reports arrive out of order.
    this.upsert = db.prepare(
      `INSERT INTO agents (jid, last_seen) VALUES (@jid, @at)
       ON CONFLICT (jid) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
    );
    this.selectAll = db.prepare('SELECT jid, last_seen AS lastSeen FROM agents ORDER BY last_seen DESC, jid');
  }

  async remember(jid: string, at: Date): Promise<void> {
    this.upsert.run({ jid, at: at.toISOString() });
  }

  async known(): Promise<KnownAgent[]> {
    return this.selectAll.all();
  }
}

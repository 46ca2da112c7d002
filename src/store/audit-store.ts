import { userInfo } from 'node:os';
import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';

/** What an audit entry records (docs/decisions.md, Retention and audit). */
export const AUDIT_ACTIONS = [
  'job.kill',
  'agent.drain',
  'agent.undrain',
  'agent.add',
  'agent.remove',
  'process.pool',
  'user.create',
  'token.create',
  'token.revoke',
  'limits.set',
  'auth.refused',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who made a change from the command line on the server's machine, rather than over HTTP. */
export const CLI_ACTOR = 'cli';
/** The actor of refused authentications: nobody was authenticated. */
export const UNAUTHENTICATED = 'unauthenticated';

export interface AuditRecord {
  /** The admin's user name, `cli`, or `unauthenticated`. */
  actor: string;
  action: AuditAction;
  /** What was acted on: a job id, agent JID, user name, token id, process id. */
  target?: string | null;
  /** The remote address of an HTTP request; `local:USER` for the command line. */
  source: string;
  detail?: Record<string, unknown>;
}

/** An action taken with the `outpost` command on the server's machine, by the system user running it. */
export function commandLineAction(action: AuditAction, target: string, detail?: Record<string, unknown>): AuditRecord {
  return { actor: CLI_ACTOR, action, target, source: `local:${userInfo().username}`, ...(detail && { detail }) };
}

export interface AuditEntry extends Required<Omit<AuditRecord, 'detail'>> {
  id: number;
  /** When it happened; for refused authentications, the first of that minute. */
  at: string;
  detail: Record<string, unknown> | null;
  /** How many times it happened: more than 1 only for refused authentications of one source and minute. */
  count: number;
}

export interface AuditFilter {
  actions?: string[];
  actor?: string;
  /** Bounds on `at`, inclusive, as `Date#toISOString()` writes them. */
  since?: string;
  until?: string;
  limit: number;
  offset: number;
}

/** The audit log on either engine: admin actions one row each, refused authentications one row per source and minute. */
export interface AuditStoreApi {
  record(entry: AuditRecord, at?: Date): Promise<void>;
  /** A request whose credentials were refused; `reason` is what it was told, kept for the last one of the minute. */
  refusedAuthentication(source: string, reason: string, at?: Date): Promise<void>;
  /** Entries matching every given filter, newest first. */
  list(filter: AuditFilter): Promise<AuditPage>;
  /** Removes up to `limit` entries older than `before`, oldest first; resolves with how many went. */
  removeOlderThan(before: Date, limit: number): Promise<number>;
}

export interface AuditPage {
  entries: AuditEntry[];
  more: boolean;
}

export interface AuditRow extends Omit<AuditEntry, 'detail'> {
  detail: string | null;
}

export const AUDIT_COLUMNS = 'id, at, actor, action, target, source, detail, count';

/** A page of `limit` entries from rows read with a limit one higher, which tells whether more follow. */
export function auditPage(rows: AuditRow[], limit: number): AuditPage {
  const entries = rows.slice(0, limit).map((row) => ({ ...row, detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, unknown>) }));
  return { entries, more: rows.length > limit };
}

/** The audit log in SQLite. */
export class AuditStore implements AuditStoreApi {
  readonly #insert: Statement<[Record<string, unknown>]>;
  readonly #refused: Statement<[Record<string, unknown>]>;
  readonly #trim: Statement<[{ before: string; limit: number }]>;
  readonly #queries = new Map<string, Statement<[Record<string, unknown>], AuditRow>>();

  constructor(private readonly db: Database) {
    this.#insert = db.prepare('INSERT INTO audit (at, actor, action, target, source, detail) VALUES (@at, @actor, @action, @target, @source, @detail)');
    // A flood of bad tokens costs one row per source and minute, however many requests it sends.
    this.#refused = db.prepare(
      `INSERT INTO audit (at, actor, action, source, detail, minute) VALUES (@at, '${UNAUTHENTICATED}', 'auth.refused', @source, @detail, substr(@at, 1, 16))
       ON CONFLICT (source, minute) WHERE minute IS NOT NULL DO UPDATE SET count = count + 1, detail = excluded.detail`,
    );
    this.#trim = db.prepare('DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < @before ORDER BY at LIMIT @limit)');
  }

  async record(entry: AuditRecord, at = new Date()): Promise<void> {
    this.#insert.run({
      at: at.toISOString(),
      actor: entry.actor,
      action: entry.action,
      target: entry.target ?? null,
      source: entry.source,
      detail: entry.detail === undefined ? null : JSON.stringify(entry.detail),
    });
  }

  async refusedAuthentication(source: string, reason: string, at = new Date()): Promise<void> {
    this.#refused.run({ at: at.toISOString(), source, detail: JSON.stringify({ reason }) });
  }

  async list(filter: AuditFilter): Promise<AuditPage> {
    const clauses: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit + 1, offset: filter.offset };
    if (filter.actions?.length) {
      clauses.push('action IN (SELECT value FROM json_each(@actions))');
      params['actions'] = JSON.stringify(filter.actions);
    }
    for (const [key, clause] of [['actor', 'actor = @actor'], ['since', 'at >= @since'], ['until', 'at <= @until']] as const) {
      if (filter[key] === undefined) continue;
      clauses.push(clause);
      params[key] = filter[key];
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = this.#query(`SELECT ${AUDIT_COLUMNS} FROM audit ${where} ORDER BY at DESC, id DESC LIMIT @limit OFFSET @offset`).all(params);
    return auditPage(rows, filter.limit);
  }

  async removeOlderThan(before: Date, limit: number): Promise<number> {
    return this.#trim.run({ before: before.toISOString(), limit }).changes;
  }

  /** Filter combinations are few, so each distinct query is prepared once and kept. */
  #query(sql: string): Statement<[Record<string, unknown>], AuditRow> {
    let statement = this.#queries.get(sql);
    if (!statement) {
      statement = this.db.prepare<[Record<string, unknown>], AuditRow>(sql);
      this.#queries.set(sql, statement);
    }
    return statement;
  }
}

import { UNAUTHENTICATED, AUDIT_COLUMNS, auditPage, type AuditFilter, type AuditPage, type AuditRecord, type AuditRow, type AuditStoreApi } from '../audit-store.js';
import type { Queryable } from './postgres-pool.js';

/** The audit log of src/store/audit-store.ts in PostgreSQL, one log for every orchestrator. */
export class PostgresAuditStore implements AuditStoreApi {
  constructor(private readonly db: Queryable) {}

  async record(entry: AuditRecord, at = new Date()): Promise<void> {
    await this.db.query('INSERT INTO audit (at, actor, action, target, source, detail) VALUES ($1, $2, $3, $4, $5, $6)', [
      at.toISOString(),
      entry.actor,
      entry.action,
      entry.target ?? null,
      entry.source,
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
    ]);
  }

  async refusedAuthentication(source: string, reason: string, at = new Date()): Promise<void> {
    // A flood of bad tokens costs one row per source and minute, however many requests it sends.
    await this.db.query(
      `INSERT INTO audit (at, actor, action, source, detail, minute) VALUES ($1, '${UNAUTHENTICATED}', 'auth.refused', $2, $3, substr($1, 1, 16))
       ON CONFLICT (source, minute) WHERE minute IS NOT NULL DO UPDATE SET count = audit.count + 1, detail = excluded.detail`,
      [at.toISOString(), source, JSON.stringify({ reason })],
    );
  }

  async list(filter: AuditFilter): Promise<AuditPage> {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const bind = (value: unknown) => `$${params.push(value)}`;
    if (filter.actions?.length) clauses.push(`action = ANY(${bind(filter.actions)}::text[])`);
    if (filter.actor !== undefined) clauses.push(`actor = ${bind(filter.actor)}`);
    if (filter.since !== undefined) clauses.push(`at >= ${bind(filter.since)}`);
    if (filter.until !== undefined) clauses.push(`at <= ${bind(filter.until)}`);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const { rows } = await this.db.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit ${where} ORDER BY at DESC, id DESC LIMIT ${bind(filter.limit + 1)} OFFSET ${bind(filter.offset)}`,
      params,
    );
    // bigint ids come back as strings from the driver; the log's ids stay far below 2^53.
    return auditPage(rows.map((row) => ({ ...row, id: Number(row.id) })), filter.limit);
  }

  async removeOlderThan(before: Date, limit: number): Promise<number> {
    const { rowCount } = await this.db.query('DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < $1 ORDER BY at LIMIT $2)', [before.toISOString(), limit]);
    return rowCount ?? 0;
  }
}

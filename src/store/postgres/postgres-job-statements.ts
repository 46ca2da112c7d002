import type { JobFilter, JobPage, JobRecord } from '../job-record.js';
import { FINISHED_STATUSES } from '../job-record.js';
import type { JobStoreApi } from '../job-store-api.js';
import { COLUMNS, fromRow, toRow, type JobOutcome, type JobRow } from '../job-store.js';
import type { Queryable } from './postgres-pool.js';

/** Every operation of the store but `transaction`: the statements, run on a pool or on one client. */
export type JobStatements = Omit<JobStoreApi, 'transaction'>;

const SELECTED = COLUMNS.join(', ');
const UNFINISHED = `status IN ('accepted', 'running')`;
const FINISHED = `status IN (${FINISHED_STATUSES.map((status) => `'${status}'`).join(', ')})`;
const TIMESTAMPS = ['created', 'started', 'finished', 'updated'] as const;

type StoredRow = Omit<JobRow, (typeof TIMESTAMPS)[number]> & Record<(typeof TIMESTAMPS)[number], Date | null>;

/** `timestamptz` comes back as a Date; the record holds `Date#toISOString()` strings, as in SQLite. */
function recordOf(row: StoredRow): JobRecord {
  const iso = (time: Date | null) => time?.toISOString() ?? null;
  return fromRow({ ...row, created: iso(row.created)!, started: iso(row.started), finished: iso(row.finished), updated: iso(row.updated)! });
}

/** Whole milliseconds from start to finish, or to now while running. */
const durationMs = (now: string) => `round(extract(epoch FROM coalesce(finished, ${now}::timestamptz) - started) * 1000)`;

/** The job filters of `JobQueries#list` as a WHERE clause with numbered parameters. */
function listQuery(filter: JobFilter, now: string): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const clauses: string[] = [];
  if (filter.processIds?.length) clauses.push(`process_id = ANY(${param(filter.processIds)}::text[])`);
  if (filter.statuses?.length) clauses.push(`status = ANY(${param(filter.statuses)}::text[])`);
  if (filter.owner !== undefined) clauses.push(`owner = ${param(filter.owner)}`);
  if (filter.agent !== undefined) {
    const agent = param(filter.agent);
    // A bare JID stands for every resource of the account.
    clauses.push(filter.agent.includes('/') ? `agent = ${agent}` : `(agent = ${agent} OR starts_with(agent, ${agent} || '/'))`);
  }
  if (filter.createdFrom !== undefined) clauses.push(`created >= ${param(filter.createdFrom)}::timestamptz`);
  if (filter.createdTo !== undefined) clauses.push(`created <= ${param(filter.createdTo)}::timestamptz`);
  if (filter.minDuration !== undefined || filter.maxDuration !== undefined) {
    const duration = durationMs(param(now));
    clauses.push('started IS NOT NULL');
    if (filter.minDuration !== undefined) clauses.push(`${duration} >= ${param(filter.minDuration * 1000)}`);
    if (filter.maxDuration !== undefined) clauses.push(`${duration} <= ${param(filter.maxDuration * 1000)}`);
  }
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  const page = `LIMIT ${param(filter.limit + 1)} OFFSET ${param(filter.offset)}`;
  return { sql: `SELECT ${SELECTED} FROM jobs ${where} ORDER BY created DESC, id DESC ${page}`, params };
}

/**
 * The statements of the job store in PostgreSQL, each the same condition as its SQLite twin in
 * src/store/job-store.ts: a write returns the row as written, or undefined when its condition left
 * the row alone.
 */
export function jobStatements(db: Queryable, clock: () => Date): JobStatements {
  const now = () => clock().toISOString();
  const rows = async (sql: string, params: unknown[] = []) => (await db.query<StoredRow>(sql, params)).rows.map(recordOf);
  const one = async (sql: string, params: unknown[]) => (await rows(sql, params))[0];
  const finishedIds = async (sql: string, params: unknown[]) => (await db.query<{ id: string }>(sql, params)).rows.map((row) => row.id);

  return {
    get: (id) => one(`SELECT ${SELECTED} FROM jobs WHERE id = $1`, [id]),

    async list(filter): Promise<JobPage> {
      const { sql, params } = listQuery(filter, now());
      const found = await rows(sql, params);
      return { jobs: found.slice(0, filter.limit), more: found.length > filter.limit };
    },

    async assignedPerAgent() {
      const { rows: counts } = await db.query<{ agent: string; jobs: number }>(
        `SELECT agent, count(*)::integer AS jobs FROM jobs WHERE ${UNFINISHED} AND agent IS NOT NULL GROUP BY agent`,
      );
      return new Map(counts.map((row) => [row.agent, row.jobs]));
    },

    unfinished: () => rows(`SELECT ${SELECTED} FROM jobs WHERE ${UNFINISHED} ORDER BY created, id`),

    async create(job, digest) {
      const row = toRow(job);
      const values = [...COLUMNS.map((column) => row[column]), digest ?? null];
      const created = await one(`INSERT INTO jobs (${SELECTED}, upload_token_hash) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING ${SELECTED}`, values);
      return created!;
    },

    // Only a job still waiting is handed out or queued again; one dismissed meanwhile stays as it is.
    assign: (id, agent, digest) =>
      one(`UPDATE jobs SET agent = $2, upload_token_hash = $4, updated = $3 WHERE id = $1 AND status = 'accepted' RETURNING ${SELECTED}`, [id, agent, now(), digest ?? null]),

    markRunning: (id, agent, startedAt, back = false) =>
      one(
        `UPDATE jobs SET status = 'running', agent = $2, started = coalesce(started, $3), updated = $4,
           message = CASE WHEN $5 THEN NULL ELSE message END
         WHERE id = $1 AND ${UNFINISHED} AND ($5 OR NOT (status = 'running' AND agent IS NOT DISTINCT FROM $2))
         RETURNING ${SELECTED}`,
        [id, agent, startedAt, now(), back],
      ),

    note: (id, message) => one(`UPDATE jobs SET message = $2, updated = $3 WHERE id = $1 AND ${UNFINISHED} RETURNING ${SELECTED}`, [id, message, now()]),

    recordProgress: (id, seq, progress, message) =>
      one(
        `UPDATE jobs SET progress = $3, message = coalesce($4, message), last_seq = $2, updated = $5
         WHERE id = $1 AND last_seq < $2 AND ${UNFINISHED} RETURNING ${SELECTED}`,
        [id, seq, progress, message, now()],
      ),

    finish: (id, seq, outcome: JobOutcome) =>
      one(
        `UPDATE jobs SET status = $3, results = $4, error = $5, dismissed_by = $6,
           progress = CASE WHEN $3 = 'successful' THEN 100 ELSE progress END,
           finished = $7, updated = $7, last_seq = greatest(last_seq, $2)
         WHERE id = $1 AND ${UNFINISHED} AND ($2 = 0 OR last_seq < $2) RETURNING ${SELECTED}`,
        [
          id,
          seq,
          outcome.status,
          outcome.status === 'successful' ? JSON.stringify(outcome.results) : null,
          outcome.status === 'failed' ? JSON.stringify(outcome.error) : null,
          outcome.status === 'dismissed' ? outcome.dismissedBy : null,
          now(),
        ],
      ),

    remove: async (id) => ((await db.query('DELETE FROM jobs WHERE id = $1', [id])).rowCount ?? 0) > 0,

    /** Run inside a transaction: the ids found are deleted with their callback deliveries in one go. */
    async expire(keepMs, at, limit) {
      const ids = await finishedIds(
        `SELECT id FROM jobs WHERE expires IS NOT NULL AND expires < $1 AND ${FINISHED} ORDER BY expires LIMIT $2`,
        [at.toISOString(), limit],
      );
      if (ids.length < limit) {
        ids.push(
          ...(await finishedIds(
            `SELECT id FROM jobs WHERE finished IS NOT NULL AND keep_seconds IS NULL AND finished < $1 AND ${FINISHED} ORDER BY finished LIMIT $2`,
            [new Date(at.getTime() - keepMs).toISOString(), limit - ids.length],
          )),
        );
      }
      if (ids.length === 0) return [];
      await db.query('DELETE FROM callbacks WHERE job_id = ANY($1::text[])', [ids]);
      return rows(`DELETE FROM jobs WHERE id = ANY($1::text[]) AND ${FINISHED} RETURNING ${SELECTED}`, [ids]);
    },
  };
}

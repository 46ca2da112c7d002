import type { Statement } from 'better-sqlite3';
import type { Database } from './database.js';
import type { JobError, JobFilter, JobPage, JobRecord, JobStatus } from './job-record.js';

export type JobOutcome =
  | { status: 'successful'; results: NonNullable<JobRecord['results']> }
  | { status: 'failed'; error: JobError }
  | { status: 'dismissed'; dismissedBy: string | null };

export interface JobRow {
  id: string;
  process_id: string;
  status: JobStatus;
  owner: string;
  agent: string | null;
  inputs: string;
  execution: string;
  progress: number;
  message: string | null;
  created: string;
  started: string | null;
  finished: string | null;
  updated: string;
  results: string | null;
  error: string | null;
  last_seq: number;
  dismissed_by: string | null;
}

type FinishParams = Pick<JobRow, 'id' | 'status' | 'results' | 'error' | 'dismissed_by'> & { seq: number; now: string };

export const COLUMNS: readonly (keyof JobRow)[] = [
  'id', 'process_id', 'status', 'owner', 'agent', 'inputs', 'execution', 'progress', 'message',
  'created', 'started', 'finished', 'updated', 'results', 'error', 'last_seq', 'dismissed_by',
];

const UNFINISHED = `status IN ('accepted', 'running')`;

/** Whole milliseconds from start to finish, or to now while running (julianday keeps ms exactly). */
const DURATION_MS = `round((julianday(coalesce(finished, @now)) - julianday(started)) * 86400000)`;

export function toRow(job: JobRecord): JobRow {
  return {
    id: job.id,
    process_id: job.processId,
    status: job.status,
    owner: job.owner,
    agent: job.agent,
    inputs: JSON.stringify(job.inputs),
    execution: JSON.stringify(job.execution),
    progress: job.progress,
    message: job.message,
    created: job.created,
    started: job.started,
    finished: job.finished,
    updated: job.updated,
    results: job.results === null ? null : JSON.stringify(job.results),
    error: job.error === null ? null : JSON.stringify(job.error),
    last_seq: job.lastSeq,
    dismissed_by: job.dismissedBy,
  };
}

export function fromRow(row: JobRow): JobRecord {
  return {
    id: row.id,
    processId: row.process_id,
    status: row.status,
    owner: row.owner,
    agent: row.agent,
    inputs: JSON.parse(row.inputs) as JobRecord['inputs'],
    execution: JSON.parse(row.execution) as JobRecord['execution'],
    progress: row.progress,
    message: row.message,
    created: row.created,
    started: row.started,
    finished: row.finished,
    updated: row.updated,
    results: row.results === null ? null : (JSON.parse(row.results) as JobRecord['results']),
    error: row.error === null ? null : (JSON.parse(row.error) as JobError),
    lastSeq: row.last_seq,
    dismissedBy: row.dismissed_by,
  };
}

const rowToRecord = (row: JobRow | undefined): JobRecord | undefined => row && fromRow(row);

/** Stored timestamps compare as strings only in one exact form, so bounds are normalised to it. */
function isoTimestamp(value: string): string {
  return new Date(value).toISOString();
}

/**
 * The row a `RETURNING` write gives back, once that write is committed. `.get()` hands the row over
 * at the first step, before the statement's implicit commit, and never reports that commit
 * failing (SQLITE_FULL): the caller would act on a change that is not stored. `.all()` steps to the end.
 */
function written<P>(statement: Statement<[P], JobRow>, params: P): JobRow | undefined {
  return statement.all(params)[0];
}

/** Jobs in SQLite. Timestamps are `Date#toISOString()` strings, so string order is time order. */
export class JobStore {
  private readonly insertJob: Statement<[JobRow & { upload_token_hash: Buffer | null }], JobRow>;
  private readonly selectJob: Statement<[string], JobRow>;
  private readonly replaceJob: Statement<[JobRow]>;
  private readonly runningJob: Statement<[{ id: string; agent: string; started: string; now: string; back: number }], JobRow>;
  private readonly noteJob: Statement<[{ id: string; message: string; now: string }], JobRow>;
  private readonly agentOfJob: Statement<[{ id: string; agent: string | null; hash: Buffer | null; now: string }], JobRow>;
  private readonly progressJob: Statement<
    [{ id: string; seq: number; progress: number; message: string | null; now: string }],
    JobRow
  >;
  private readonly finishJob: Statement<[FinishParams], JobRow>;
  private readonly deleteJob: Statement<[string]>;
  private readonly selectUnfinished: Statement<[], JobRow>;
  private readonly countAssigned: Statement<[], { agent: string; jobs: number }>;
  private readonly listQueries = new Map<string, Statement<[Record<string, unknown>], JobRow>>();

  constructor(
    private readonly db: Database,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.insertJob = db.prepare(
      `INSERT INTO jobs (${COLUMNS.join(', ')}, upload_token_hash) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')}, @upload_token_hash) RETURNING *`,
    );
    this.selectJob = db.prepare('SELECT * FROM jobs WHERE id = ?');
    this.replaceJob = db.prepare(
      `UPDATE jobs SET ${COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`,
    );
    // Only a job still waiting is handed out or queued again; one dismissed meanwhile stays as it is.
    this.agentOfJob = db.prepare(`UPDATE jobs SET agent = @agent, upload_token_hash = @hash, updated = @now WHERE id = @id AND status = 'accepted' RETURNING *`);
    this.runningJob = db.prepare(
      `UPDATE jobs SET status = 'running', agent = @agent, started = coalesce(started, @started), updated = @now,
         message = CASE WHEN @back THEN NULL ELSE message END
       WHERE id = @id AND ${UNFINISHED} AND (@back OR NOT (status = 'running' AND agent IS @agent)) RETURNING *`,
    );
    this.noteJob = db.prepare(`UPDATE jobs SET message = @message, updated = @now WHERE id = @id AND ${UNFINISHED} RETURNING *`);
    this.progressJob = db.prepare(
      `UPDATE jobs SET progress = @progress, message = coalesce(@message, message), last_seq = @seq, updated = @now
       WHERE id = @id AND last_seq < @seq AND ${UNFINISHED} RETURNING *`,
    );
    this.finishJob = db.prepare(
      `UPDATE jobs SET status = @status, results = @results, error = @error, dismissed_by = @dismissed_by,
         progress = CASE WHEN @status = 'successful' THEN 100 ELSE progress END,
         finished = @now, updated = @now, last_seq = max(last_seq, @seq)
       WHERE id = @id AND ${UNFINISHED} AND (@seq = 0 OR last_seq < @seq) RETURNING *`,
    );
    this.deleteJob = db.prepare('DELETE FROM jobs WHERE id = ?');
    this.selectUnfinished = db.prepare(`SELECT * FROM jobs WHERE ${UNFINISHED} ORDER BY created, id`);
    this.countAssigned = db.prepare(`SELECT agent, count(*) AS jobs FROM jobs WHERE ${UNFINISHED} AND agent IS NOT NULL GROUP BY agent`);
  }

  /** Each write below is one statement that returns the row it wrote (`RETURNING *`): no read follows. */
  create(job: JobRecord, uploadTokenDigest?: Buffer): JobRecord {
    return fromRow(written(this.insertJob, { ...toRow(job), upload_token_hash: uploadTokenDigest ?? null })!);
  }

  get(id: string): JobRecord | undefined {
    return rowToRecord(this.selectJob.get(id));
  }

  /**
   * Jobs matching every given filter, newest first (`created DESC, id DESC`).
   * An empty `processIds` or `statuses` list restricts nothing, like an absent one.
   */
  list(filter: JobFilter): JobPage {
    const clauses: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit + 1, offset: filter.offset };
    if (filter.processIds?.length) {
      clauses.push('process_id IN (SELECT value FROM json_each(@processIds))');
      params['processIds'] = JSON.stringify(filter.processIds);
    }
    if (filter.statuses?.length) {
      clauses.push('status IN (SELECT value FROM json_each(@statuses))');
      params['statuses'] = JSON.stringify(filter.statuses);
    }
    if (filter.owner !== undefined) {
      clauses.push('owner = @owner');
      params['owner'] = filter.owner;
    }
    if (filter.agent !== undefined) {
      // A bare JID stands for every resource of the account.
      clauses.push(filter.agent.includes('/') ? 'agent = @agent' : `(agent = @agent OR substr(agent, 1, length(@agent) + 1) = @agent || '/')`);
      params['agent'] = filter.agent;
    }
    if (filter.createdFrom !== undefined) {
      clauses.push('created >= @createdFrom');
      params['createdFrom'] = isoTimestamp(filter.createdFrom);
    }
    if (filter.createdTo !== undefined) {
      clauses.push('created <= @createdTo');
      params['createdTo'] = isoTimestamp(filter.createdTo);
    }
    if (filter.minDuration !== undefined || filter.maxDuration !== undefined) {
      clauses.push('started IS NOT NULL');
      params['now'] = this.now();
    }
    if (filter.minDuration !== undefined) {
      clauses.push(`${DURATION_MS} >= @minDurationMs`);
      params['minDurationMs'] = filter.minDuration * 1000;
    }
    if (filter.maxDuration !== undefined) {
      clauses.push(`${DURATION_MS} <= @maxDurationMs`);
      params['maxDurationMs'] = filter.maxDuration * 1000;
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = this.listQuery(`SELECT * FROM jobs ${where} ORDER BY created DESC, id DESC LIMIT @limit OFFSET @offset`)
      .all(params);
    const more = rows.length > filter.limit;
    return { jobs: rows.slice(0, filter.limit).map(fromRow), more };
  }

  /** Changes the given fields; `updated` becomes now unless the patch sets it. */
  update(id: string, patch: Partial<Omit<JobRecord, 'id'>>): JobRecord | undefined {
    return this.db.transaction(() => {
      const current = this.get(id);
      if (!current) return undefined;
      const given = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
      const next: JobRecord = { ...current, updated: this.now(), ...given, id };
      this.replaceJob.run(toRow(next));
      return next;
    })();
  }

  /** Records the agent a waiting job was handed to (null: back in the queue); undefined when it no longer waits. */
  setAgent(id: string, agent: string | null, uploadTokenDigest?: Buffer): JobRecord | undefined {
    return rowToRecord(written(this.agentOfJob, { id, agent, hash: uploadTokenDigest ?? null, now: this.now() }));
  }

  /**
   * The job was handed to `agent`; a repeated report from that agent changes nothing and returns
   * undefined, unless the agent is `back` from being lost: then the note saying so is cleared.
   */
  markRunning(id: string, agent: string, startedAt: string, back = false): JobRecord | undefined {
    return rowToRecord(written(this.runningJob, { id, agent, started: startedAt, now: this.now(), back: back ? 1 : 0 }));
  }

  /** Replaces the message of an unfinished job with the orchestrator's own note (e.g. its agent is lost). */
  note(id: string, message: string): JobRecord | undefined {
    return rowToRecord(written(this.noteJob, { id, message, now: this.now() }));
  }

  /**
   * Applies a progress event unless it is a repeat (`seq <= lastSeq`) or the job is finished.
   * A null message keeps the previous one, since percent-only progress lines carry none.
   */
  recordProgress(id: string, seq: number, progress: number, message: string | null): boolean {
    return this.progress(id, seq, progress, message) !== undefined;
  }

  /** `recordProgress` that returns the job as written, or undefined when nothing changed. */
  progress(id: string, seq: number, progress: number, message: string | null): JobRecord | undefined {
    return rowToRecord(written(this.progressJob, { id, seq, progress, message, now: this.now() }));
  }

  /**
   * Finishes an unfinished job. An agent's terminal event applies once, by `seq`; the
   * orchestrator's own decisions use seq 0 and apply to any unfinished job.
   */
  finish(id: string, seq: number, outcome: JobOutcome): JobRecord | undefined {
    const row = written(this.finishJob, {
      id,
      seq,
      now: this.now(),
      status: outcome.status,
      results: outcome.status === 'successful' ? JSON.stringify(outcome.results) : null,
      error: outcome.status === 'failed' ? JSON.stringify(outcome.error) : null,
      dismissed_by: outcome.status === 'dismissed' ? outcome.dismissedBy : null,
    });
    return rowToRecord(row);
  }

  remove(id: string): boolean {
    return this.deleteJob.run(id).changes > 0;
  }

  /** Accepted and running jobs, oldest first: what a restarted orchestrator must pick up again. */
  unfinished(): JobRecord[] {
    return this.selectUnfinished.all().map(fromRow);
  }

  /** Unfinished jobs handed to each agent (full JID): the slots they hold, whatever the agent last reported. */
  assignedPerAgent(): Map<string, number> {
    return new Map(this.countAssigned.all().map((row) => [row.agent, row.jobs]));
  }

  private now(): string {
    return this.clock().toISOString();
  }

  /** Filter combinations are few, so each distinct query is prepared once and kept. */
  private listQuery(sql: string): Statement<[Record<string, unknown>], JobRow> {
    let statement = this.listQueries.get(sql);
    if (!statement) {
      statement = this.db.prepare<[Record<string, unknown>], JobRow>(sql);
      this.listQueries.set(sql, statement);
    }
    return statement;
  }
}

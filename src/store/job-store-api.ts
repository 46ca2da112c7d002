import type { JobFilter, JobPage, JobRecord } from './job-record.js';
import type { JobOutcome } from './job-store.js';

/** What may be read about jobs: the HTTP API's view of the store. */
export interface JobQueries {
  get(id: string): Promise<JobRecord | undefined>;
  /** Jobs matching every given filter, newest first. */
  list(filter: JobFilter): Promise<JobPage>;
  /** Unfinished jobs handed to each agent (full JID). */
  assignedPerAgent(): Promise<Map<string, number>>;
}

/**
 * The job store as the lifecycle uses it. Asynchronous, so that a database server can stand
 * behind it; every write is one statement that returns the job as written, or undefined when
 * its condition (status, sequence number) left the row alone.
 */
export interface JobStoreApi extends JobQueries {
  /** Accepted and running jobs, oldest first. */
  unfinished(): Promise<JobRecord[]>;
  /** Stores a new job; one handed out as it is stored (`job.agent` set) comes with the digest of its dispatch's upload token, as in `assign`. */
  create(job: JobRecord, uploadTokenDigest?: Buffer): Promise<JobRecord>;
  /**
   * Records the agent a waiting job was handed to (null: back in the queue), with the digest of the
   * upload token that dispatch carries; it replaces the job's earlier token (none when unassigned).
   */
  assign(id: string, agent: string | null, uploadTokenDigest?: Buffer): Promise<JobRecord | undefined>;
  /** The job runs on `agent`; a repeated report from the same agent changes nothing, unless it is `back` from being lost (its note is cleared). */
  markRunning(id: string, agent: string, startedAt: string, back?: boolean): Promise<JobRecord | undefined>;
  /** Replaces the message of an unfinished job with the orchestrator's own note. */
  note(id: string, message: string): Promise<JobRecord | undefined>;
  /** Applies a progress event unless it is a repeat (`seq <= lastSeq`) or the job is finished. */
  recordProgress(id: string, seq: number, progress: number, message: string | null): Promise<JobRecord | undefined>;
  /** Finishes an unfinished job; an agent's event applies once by `seq`, the orchestrator's own decisions use 0. */
  finish(id: string, seq: number, outcome: JobOutcome): Promise<JobRecord | undefined>;
  remove(id: string): Promise<boolean>;
  /**
   * Removes up to `limit` finished jobs that finished longer ago than their keep time (their
   * process's own, else `keepMs`), with what the store holds for them; returns them as they were.
   */
  expire(keepMs: number, now: Date, limit: number): Promise<JobRecord[]>;
  /** Runs `fn` with its writes in one transaction: all of them are kept, or none. */
  transaction<T>(fn: (store: JobStoreApi) => Promise<T>): Promise<T>;
}

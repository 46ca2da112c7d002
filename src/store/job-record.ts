import type { FailureCode, OutputValue } from '../../protocol/index.js';

/** OGC API – Processes statusCode values (OGC 18-062r2, statusInfo.yaml). */
export type JobStatus = 'accepted' | 'running' | 'successful' | 'failed' | 'dismissed';
export const JOB_STATUSES: readonly JobStatus[] = ['accepted', 'running', 'successful', 'failed', 'dismissed'];
export const FINISHED_STATUSES: readonly JobStatus[] = ['successful', 'failed', 'dismissed'];
export const isFinished = (job: Pick<JobRecord, 'status'>) => FINISHED_STATUSES.includes(job.status);

/** Failure codes of agents plus the ones the orchestrator decides itself. */
export type JobErrorCode = FailureCode | 'agent-lost' | 'rejected' | 'no-agent' | 'undeliverable';

export interface JobError {
  code: JobErrorCode;
  message: string;
  exitCode?: number;
  signal?: string;
  stderr?: string;
}

/** What the client asked for besides inputs (OGC execute request). */
export interface ExecutionOptions {
  response: 'document' | 'raw';
  /** Requested outputs with their transmission mode and format; undefined means all, each in its default mode. */
  outputs?: Record<string, OutputRequest>;
  /** Output name → the media type chosen among that output's formats; what the agent is told in `execute`. */
  formats?: Record<string, string>;
  /** Where to POST results, progress and failure (OGC 18-062r2 callback class). */
  subscriber?: Subscriber;
}

/** One output of an execute request (OGC 18-062r2 `output.yaml`). */
export interface OutputRequest {
  transmissionMode?: 'value' | 'reference';
  format?: { mediaType?: string };
}

export interface Subscriber {
  successUri?: string;
  inProgressUri?: string;
  failedUri?: string;
}

export interface JobRecord {
  id: string;
  processId: string;
  status: JobStatus;
  owner: string;
  /** Full JID of the agent running the job, once dispatched. */
  agent: string | null;
  inputs: Record<string, unknown>;
  execution: ExecutionOptions;
  progress: number;
  message: string | null;
  created: string;
  started: string | null;
  finished: string | null;
  updated: string;
  results: Record<string, OutputValue> | null;
  error: JobError | null;
  /** Highest event sequence number applied; events at or below it are repeats. */
  lastSeq: number;
  dismissedBy: string | null;
}

export interface JobFilter {
  processIds?: string[];
  statuses?: JobStatus[];
  owner?: string;
  /** Full JID of the agent, or a bare JID for every resource of its account. */
  agent?: string;
  /** Interval on `created`, open ends as undefined (OGC `datetime` parameter). */
  createdFrom?: string;
  createdTo?: string;
  /** Seconds between started and finished (or now, while running). */
  minDuration?: number;
  maxDuration?: number;
  limit: number;
  offset: number;
}

export interface JobPage {
  jobs: JobRecord[];
  /** Whether more jobs match beyond this page. */
  more: boolean;
}

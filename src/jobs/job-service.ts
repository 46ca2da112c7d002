import type { ExecutionOptions, JobRecord } from '../store/job-record.js';

export interface SubmitRequest {
  processId: string;
  inputs: Record<string, unknown>;
  execution: ExecutionOptions;
  owner: string;
}

/** What the HTTP layer asks of the job lifecycle; errors are thrown as `OutpostError`. */
export interface JobService {
  /** Validates the inputs against the process, stores the job (accepted) and dispatches or queues it. */
  submit(request: SubmitRequest): JobRecord;
  /** Resolves with the job once it is finished (successful, failed or dismissed). */
  waitUntilFinished(jobId: string, signal: AbortSignal): Promise<JobRecord>;
  /** Stops the run if any (really kills it on the agent), then removes the job and its files. */
  dismiss(jobId: string): Promise<JobRecord>;
  /**
   * Stops the run if any and keeps the job as dismissed by `by`; a queued job just leaves the
   * queue. A finished job cannot be killed (`job-finished`).
   */
  kill(jobId: string, by: string): Promise<JobRecord>;
}

import type { JobRecord } from '../store/job-record.js';
import type { JobQueries } from '../store/job-store-api.js';
import type { JobFollower, JobLifecycle, SubmitRequest } from './job-lifecycle.js';

export type { SubmitRequest } from './job-lifecycle.js';

/** The HTTP layer's one door to jobs: reads, and the lifecycle's verbs; errors are thrown as `OutpostError`. */
export interface JobService extends JobQueries {
  /** Validates the inputs against the process, stores the job (accepted) and dispatches or queues it. */
  submit(request: SubmitRequest): Promise<JobRecord>;
  /** Resolves with the job once it is finished (successful, failed or dismissed). */
  waitUntilFinished(jobId: string, signal: AbortSignal): Promise<JobRecord>;
  /** Stops the run if any (really kills it on the agent), then removes the job and its files. */
  dismiss(jobId: string): Promise<JobRecord>;
  /**
   * Stops the run if any and keeps the job as dismissed by `by`; a queued job just leaves the
   * queue. A finished job cannot be killed (`job-finished`).
   */
  kill(jobId: string, by: string): Promise<JobRecord>;
  /** The job as it is now, then each change a client sees of it. */
  follow(jobId: string): Promise<JobFollower>;
}

/** The door over the store's reads and the lifecycle. */
export function jobService(queries: JobQueries, lifecycle: JobLifecycle): JobService {
  return {
    get: (id) => queries.get(id),
    list: (filter) => queries.list(filter),
    assignedPerAgent: () => queries.assignedPerAgent(),
    submit: (request) => lifecycle.submit(request),
    waitUntilFinished: (jobId, signal) => lifecycle.waitUntilFinished(jobId, signal),
    dismiss: (jobId) => lifecycle.dismiss(jobId),
    kill: (jobId, by) => lifecycle.kill(jobId, by),
    follow: (jobId) => lifecycle.follow(jobId),
  };
}

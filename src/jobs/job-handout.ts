import type { JobRecord } from '../store/job-record.js';
import type { JobOutcome } from '../store/job-store.js';
import { tokenDigest } from '../store/token-digest.js';
import { UnsendableMessageError } from '../../protocol/index.js';
import type { Dispatcher } from './dispatcher.js';
import type { JobEvent } from './job-events.js';
import { agentInputs } from './file-inputs.js';
import type { JobLifecycleOptions, UploadGrant } from './job-lifecycle-options.js';

export interface JobHandoutOptions {
  lifecycle: JobLifecycleOptions;
  dispatcher: Dispatcher;
  emit: (event: JobEvent) => void;
  /** Runs a change in the job's turn; a failure is logged. */
  inBackground: (jobId: string, step: () => Promise<unknown>) => void;
  finish: (jobId: string, seq: number, outcome: JobOutcome) => Promise<unknown>;
  /** Back to the queue, with `refusedBy` rested for the job. */
  requeue: (jobId: string, refusedBy: string) => void;
}

/**
 * Handing a placed job to its agent, for the job lifecycle: the placement's write (none for a job
 * stored handed out), the `assigned` event, then `execute` (docs/protocol.md §4.2.1).
 */
export class JobHandout {
  readonly #options: JobHandoutOptions;
  /** Jobs stored already handed out, until their `execute` goes: the record and the token it carries. */
  readonly #storedAssigned = new Map<string, { job: JobRecord; upload: UploadGrant }>();

  constructor(options: JobHandoutOptions) {
    this.#options = options;
  }

  /**
   * Stores a new job. One the dispatcher placed as it was queued is stored handed out, so its
   * dispatch, in the job's next turn, needs no write of its own (docs/decisions.md, Performance).
   */
  async create(job: JobRecord): Promise<JobRecord> {
    const { jobStore, uploadFor } = this.#options.lifecycle;
    const agent = this.#options.dispatcher.assignment(job.id)?.agent;
    if (agent === undefined) return jobStore.create(job);
    const upload = uploadFor(job.id);
    const stored = await jobStore.create({ ...job, agent }, tokenDigest(upload.token));
    this.#storedAssigned.set(job.id, { job: stored, upload });
    return stored;
  }

  /** A placement: recorded (the job may have been dismissed meanwhile), then `execute` goes out. */
  hand(jobId: string, agent: string): void {
    this.#options.inBackground(jobId, async () => {
      const { dispatcher, emit, lifecycle } = this.#options;
      const stored = this.#storedAssigned.get(jobId);
      this.#storedAssigned.delete(jobId);
      const { job, upload } = stored?.job.agent === agent ? stored : await this.#recordAssignment(jobId, agent);
      if (!job) return dispatcher.release(jobId);
      emit({ type: 'assigned', job, agent });
      const inputs = agentInputs(job.inputs, lifecycle.inputFiles.url(jobId), upload.token);
      const { formats } = job.execution;
      const { deadlineMs } = lifecycle;
      // Counted from the submission, so a job that waited long has less time left to run (docs/protocol.md §4.2.1).
      const deadline = deadlineMs ? { deadline: new Date(Date.parse(job.created) + deadlineMs).toISOString() } : {};
      lifecycle
        .send(agent, { v: 1, type: 'execute', job: jobId, process: job.processId, inputs, ...deadline, upload, ...(formats && { formats }) })
        .catch((err: Error) => this.#notSent(jobId, agent, err));
    });
  }

  /** The placement's write; the token's digest goes with it, no write of its own (docs/decisions.md, Performance). */
  async #recordAssignment(jobId: string, agent: string): Promise<{ job: JobRecord | undefined; upload: UploadGrant }> {
    const { dispatcher, lifecycle } = this.#options;
    const upload = lifecycle.uploadFor(jobId);
    // A store that cannot record it (disk full) leaves the job queued, tried again after a rest.
    const job = await lifecycle.jobStore.assign(jobId, agent, tokenDigest(upload.token)).catch((err: unknown) => {
      dispatcher.requeue(jobId, agent);
      throw err;
    });
    return { job, upload };
  }

  #notSent(jobId: string, agent: string, err: Error): void {
    const { logger } = this.#options.lifecycle;
    if (err instanceof UnsendableMessageError) {
      // Sending it again would fail the same way: the job fails once, with the reason.
      logger.warn({ job: jobId, err: err.message }, 'execute can never be sent; the job fails');
      this.#options.inBackground(jobId, () => this.#options.finish(jobId, 0, { status: 'failed', error: { code: 'undeliverable', message: err.message } }));
      return;
    }
    // Rested like a refusal, so a link that keeps failing cannot spin the event loop.
    logger.warn({ job: jobId, agent, err: err.message }, 'execute could not be sent; requeued');
    this.#options.requeue(jobId, agent);
  }
}

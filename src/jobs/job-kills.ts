import type { Logger } from 'pino';
import type { OrchestratorMessage } from '../../protocol/index.js';
import { OutpostError } from '../errors.js';
import { isFinished, type JobRecord } from '../store/job-record.js';
import type { JobOutcome } from '../store/job-store.js';
import type { JobEvent } from './job-events.js';

/** What stopping a job needs of the lifecycle it belongs to. */
export interface JobKillDeps {
  /** The agent the job is handed to now, if any. */
  agentOf(jobId: string): string | undefined;
  send(jid: string, message: OrchestratorMessage): Promise<void>;
  emit(event: JobEvent): void;
  find(jobId: string): Promise<JobRecord>;
  waitUntilFinished(jobId: string, signal: AbortSignal): Promise<JobRecord>;
  /** Ends the unfinished job as dismissed by `by`, in the job's turn; the job as it then is. */
  dismissNow(jobId: string, by: string | null): Promise<JobRecord>;
  timeoutMs: number;
  logger: Logger;
}

/**
 * Kills under way: who asked for each, so that the run's end, whatever its agent reports, makes
 * the job dismissed by them (docs/decisions.md, HTTP).
 */
export class JobKills {
  /** Jobs whose kill was asked for, with who asked (null: the owner's dismissal). */
  readonly #asked = new Map<string, string | null>();

  constructor(private readonly deps: JobKillDeps) {}

  /** How a job ends while its kill is under way, whatever its agent reports; undefined when none is. */
  outcome(jobId: string): JobOutcome | undefined {
    return this.#asked.has(jobId) ? { status: 'dismissed', dismissedBy: this.#asked.get(jobId)! } : undefined;
  }

  /** POST /admin/jobs/{id}/kill: stops the run but keeps the job, dismissed by `by` (docs/decisions.md, HTTP). */
  async kill(jobId: string, by: string): Promise<JobRecord> {
    const job = await this.deps.find(jobId);
    if (isFinished(job)) throw new OutpostError('job-finished', 409, `job '${jobId}' already finished (${job.status}); there is nothing to kill`);
    return this.#stop(job, by);
  }

  /**
   * Ends a job as dismissed: a queued job leaves the queue without any agent being asked, a
   * dispatched one is killed on its agent (waiting for the agent's confirmation up to the kill
   * timeout). Finished jobs are returned as they are, marked dismissed.
   */
  async stop(jobId: string, by: string | null): Promise<JobRecord> {
    const job = await this.deps.find(jobId);
    return isFinished(job) ? { ...job, status: 'dismissed', dismissedBy: by } : this.#stop(job, by);
  }

  /** Stops the unfinished job as read. */
  async #stop(job: JobRecord, by: string | null): Promise<JobRecord> {
    const { deps } = this;
    const jobId = job.id;
    const agent = deps.agentOf(jobId);
    // A second stop of the same job (DELETE while an admin kill is under way) waits for the first.
    if (agent && this.#asked.has(jobId)) {
      return deps.waitUntilFinished(jobId, AbortSignal.timeout(deps.timeoutMs)).catch(() => deps.find(jobId));
    }
    if (agent) {
      this.#asked.set(jobId, by);
      deps.emit({ type: 'kill-requested', job, by });
      const confirmed = new AbortController();
      const timer = setTimeout(() => confirmed.abort(new Error('kill not confirmed')), deps.timeoutMs);
      const finished = deps.waitUntilFinished(jobId, confirmed.signal);
      await deps.send(agent, { v: 1, type: 'kill', job: jobId }).catch(() => undefined);
      const result = await finished.catch(() => undefined);
      clearTimeout(timer);
      this.#asked.delete(jobId);
      if (result) return result;
      deps.logger.warn({ job: jobId, agent }, 'agent did not confirm the kill in time');
    }
    return deps.dismissNow(jobId, by);
  }
}

import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { OutpostError } from '../errors.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { isFinished, type JobRecord } from '../store/job-record.js';
import type { JobStore } from '../store/job-store.js';
import type { OrchestratorMessage } from '../../protocol/index.js';
import type { Dispatcher } from './dispatcher.js';
import type { JobService, SubmitRequest } from './job-service.js';
import type { JobUpdates } from './job-updates.js';
import { inputsTooLarge } from './execute-size.js';
import { compileInputValidator } from './input-validator.js';
import type { LimitsOf } from './owner-limits.js';

export interface JobManagerOptions {
  registry: AgentRegistry;
  store: JobStore;
  dispatcher: Dispatcher;
  updates: JobUpdates;
  send: (jid: string, message: OrchestratorMessage) => Promise<void>;
  /** How long a dismissal waits for the agent to confirm the kill before giving up on it. */
  killTimeoutMs?: number;
  /** Deletes the output files stored for a job. */
  removeFiles: (jobId: string) => Promise<void>;
  /** The limits of each job owner; `maxWaiting` is enforced here, `maxRunning` by the dispatcher. */
  limits: LimitsOf;
  logger: Logger;
}

/** Seconds a client told that it has too many jobs waiting is asked to wait before trying again. */
const RETRY_AFTER_SECONDS = 5;

/** The job lifecycle as the HTTP API sees it: submit, wait, dismiss. */
export class JobManager implements JobService {
  /** Jobs whose kill was asked for, with who asked (null: the owner's dismissal). */
  readonly pendingKills = new Map<string, { by: string | null }>();
  readonly #options: JobManagerOptions;

  constructor(options: JobManagerOptions) {
    this.#options = options;
  }

  submit(request: SubmitRequest): JobRecord {
    const { registry, store, updates, dispatcher } = this.#options;
    const offered = registry.process(request.processId);
    if (!offered) throw new OutpostError('no-such-process', 404, `process '${request.processId}' is not offered by any agent`);
    const validation = compileInputValidator(offered.spec.inputs)(request.inputs);
    if (!validation.ok) throw new OutpostError('invalid-input', 400, validation.message);
    const tooLarge = inputsTooLarge(validation.values);
    if (tooLarge) throw new OutpostError('invalid-input', 400, tooLarge);
    const now = new Date().toISOString();
    const job: JobRecord = {
      id: randomUUID(),
      processId: request.processId,
      status: 'accepted',
      owner: request.owner,
      agent: null,
      inputs: validation.values,
      execution: request.execution,
      progress: 0,
      message: null,
      created: now,
      started: null,
      finished: null,
      updated: now,
      results: null,
      error: null,
      lastSeq: 0,
      dismissedBy: null,
    };
    store.create(job);
    dispatcher.enqueue(job);
    this.#refuseBeyondWaitingLimit(job);
    updates.publish(job);
    return store.get(job.id) ?? job;
  }

  /**
   * A job that could not start at once counts against its owner's waiting limit; beyond it, the
   * job is withdrawn as if it had never been submitted (SPEC §6: 429 with Retry-After).
   */
  #refuseBeyondWaitingLimit(job: JobRecord): void {
    const { dispatcher, store, limits } = this.#options;
    const { maxWaiting } = limits(job.owner);
    if (!dispatcher.isQueued(job.id) || dispatcher.waiting(job.owner) <= maxWaiting) return;
    dispatcher.release(job.id);
    store.remove(job.id);
    const waiting = dispatcher.waiting(job.owner);
    const detail = `user '${job.owner}' already has ${waiting} job${waiting === 1 ? '' : 's'} waiting (limit ${maxWaiting})`;
    throw new OutpostError('too-many-requests', 429, detail, { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } });
  }

  waitUntilFinished(jobId: string, signal: AbortSignal): Promise<JobRecord> {
    return new Promise((resolve, reject) => {
      const check = (job: JobRecord | undefined) => {
        if (!job) return finish(() => reject(new OutpostError('no-such-job', 404, `job '${jobId}' does not exist`)));
        if (isFinished(job)) finish(() => resolve(job));
      };
      const onAbort = () => finish(() => reject(signal.reason));
      const unsubscribe = this.#options.updates.subscribe(jobId, check);
      const finish = (settle: () => void) => {
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        settle();
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      check(this.#options.store.get(jobId));
    });
  }

  /** DELETE /jobs/{id}: stops the run on its agent, then removes the job (OGC 18-062r2 §13, dismiss). */
  async dismiss(jobId: string): Promise<JobRecord> {
    const job = await this.stop(jobId, null);
    this.#options.store.remove(jobId);
    await this.#options.removeFiles(jobId);
    return job;
  }

  /** POST /admin/jobs/{id}/kill: stops the run but keeps the job, dismissed by `by` (SPEC §5, admin API). */
  async kill(jobId: string, by: string): Promise<JobRecord> {
    const job = this.#find(jobId);
    if (isFinished(job)) throw new OutpostError('job-finished', 409, `job '${jobId}' already finished (${job.status}); there is nothing to kill`);
    return this.stop(jobId, by);
  }

  /**
   * Ends a job as dismissed: a queued job leaves the queue without any agent being asked, a
   * dispatched one is killed on its agent (waiting for the agent's confirmation up to the kill
   * timeout). Finished jobs are returned as they are, marked dismissed.
   */
  async stop(jobId: string, by: string | null): Promise<JobRecord> {
    const { store, dispatcher, updates, send, logger } = this.#options;
    const job = this.#find(jobId);
    if (isFinished(job)) return { ...job, status: 'dismissed', dismissedBy: by };
    const assignment = dispatcher.assignment(jobId);
    // A second stop of the same job (DELETE while an admin kill is under way) waits for the first.
    if (assignment && this.pendingKills.has(jobId)) {
      return this.waitUntilFinished(jobId, AbortSignal.timeout(this.#options.killTimeoutMs ?? 15_000)).catch(() => this.#find(jobId));
    }
    if (assignment) {
      this.pendingKills.set(jobId, { by });
      const confirmed = new AbortController();
      const timer = setTimeout(() => confirmed.abort(new Error('kill not confirmed')), this.#options.killTimeoutMs ?? 15_000);
      const finished = this.waitUntilFinished(jobId, confirmed.signal);
      await send(assignment.agent, { v: 1, type: 'kill', job: jobId }).catch(() => undefined);
      const result = await finished.catch(() => undefined);
      clearTimeout(timer);
      this.pendingKills.delete(jobId);
      if (result) return result;
      logger.warn({ job: jobId, agent: assignment.agent }, 'agent did not confirm the kill in time');
    }
    dispatcher.release(jobId);
    const dismissed = store.finish(jobId, 0, { status: 'dismissed', dismissedBy: by }) ?? this.#find(jobId);
    updates.publish(dismissed);
    return dismissed;
  }

  #find(jobId: string): JobRecord {
    const job = this.#options.store.get(jobId);
    if (!job) throw new OutpostError('no-such-job', 404, `job '${jobId}' does not exist`);
    return job;
  }
}

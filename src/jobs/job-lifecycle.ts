import { isFinished, type JobRecord } from '../store/job-record.js';
import type { JobOutcome } from '../store/job-store.js';
import { Dispatcher } from './dispatcher.js';
import { JobEventStream, type JobEvent } from './job-events.js';
import { LostAgents } from './lost-agents.js';
import { JobUpdates } from './job-updates.js';
import { finishedJob, followJob, noSuchJob, type JobFollower } from './job-follower.js';
import { hasStoredFiles } from './file-inputs.js';
import { newJob, type SubmitRequest } from './new-job.js';
import type { JobLifecycleOptions } from './job-lifecycle-options.js';
import { JobHandout } from './job-handout.js';
import { PerJob } from './per-job.js';
import { JobKills } from './job-kills.js';
import { tooManyWaiting } from './owner-limits.js';

export type { JobFollower } from './job-follower.js';
export type { SubmitRequest } from './new-job.js';

/** How long a job its agent does not list after reconnecting waits for a late terminal event. */
const UNLISTED_GRACE_MS = 3000;

/**
 * The only place where a job changes (docs/decisions.md, Jobs): each change is one store write,
 * the dispatcher's bookkeeping, and one `JobEvent`. Changes of one job happen one after another
 * in the order they were asked for, whatever the store's latency.
 */
export class JobLifecycle {
  readonly events = new JobEventStream();
  /** The changes of each job that clients see: for waiting clients and event streams. */
  readonly updates = new JobUpdates(this.events);
  readonly #options: JobLifecycleOptions;
  readonly #dispatcher: Dispatcher;
  readonly #perJob = new PerJob();
  readonly #kills: JobKills;
  readonly #lost: LostAgents;
  /** Jobs this orchestrator has recorded running since they were handed out: their end needs no start write. */
  readonly #knownRunning = new Set<string>();
  readonly #handout: JobHandout;

  constructor(options: JobLifecycleOptions) {
    this.#options = options;
    this.#dispatcher = new Dispatcher({
      registry: options.registry,
      placed: (jobId, agent) => this.#handout.hand(jobId, agent),
      runningLimit: (owner) => options.limits(owner).maxRunning,
    });
    this.#handout = new JobHandout({
      lifecycle: options,
      dispatcher: this.#dispatcher,
      emit: (event) => this.#emit(event),
      inBackground: (jobId, step) => this.#inBackground(jobId, step),
      finish: (jobId, seq, outcome) => this.#finish(jobId, seq, outcome),
      requeue: (jobId, refusedBy) => this.#requeue(jobId, refusedBy),
    });
    this.#lost = new LostAgents({
      jobStore: options.jobStore,
      jobsOn: (jid) => this.#dispatcher.jobsOn(jid),
      inTurn: (jobId, step) => this.#perJob.run(jobId, step),
      inBackground: (jobId, step) => this.#inBackground(jobId, step),
      emit: (event) => this.#emit(event),
      requeue: (jobId) => this.#requeue(jobId),
      finish: (jobId, seq, outcome) => this.#finish(jobId, seq, outcome),
      graceMs: options.graceMs,
      logger: options.logger,
    });
    this.#kills = new JobKills({
      agentOf: (jobId) => this.#dispatcher.assignment(jobId)?.agent,
      send: (jid, message) => options.send(jid, message),
      emit: (event) => this.#emit(event),
      find: (jobId) => this.#find(jobId),
      waitUntilFinished: (jobId, signal) => this.waitUntilFinished(jobId, signal),
      dismissNow: (jobId, by) => this.#perJob.run(jobId, async () => (await this.#finish(jobId, 0, { status: 'dismissed', dismissedBy: by })) ?? this.#find(jobId)),
      timeoutMs: options.killTimeoutMs ?? 15_000,
      logger: options.logger,
    });
  }

  /** Jobs waiting for a free agent. */
  queued(): number {
    return this.#dispatcher.queued();
  }

  /** Agents or limits changed: waiting jobs may fit now. */
  dispatchWaiting(): void {
    this.#dispatcher.dispatchWaiting();
  }

  /** Validates the inputs against the process, stores the job (accepted) and dispatches or queues it. */
  submit(request: SubmitRequest): Promise<JobRecord> {
    const { job, files } = newJob(this.#options.registry, request);
    return this.#perJob.run(job.id, async () => {
      await this.#options.inputFiles.store(job.id, files).catch(async (err: unknown) => {
        await this.#options.inputFiles.remove(job.id);
        throw err;
      });
      // Queued first, so a job beyond its owner's waiting limit is refused before anything is written.
      const created = await (async () => {
        this.#enqueueWithinLimit(job);
        return this.#handout.create(job);
      })().catch(async (err: unknown) => {
        this.#dispatcher.release(job.id);
        await this.#options.inputFiles.remove(job.id);
        throw err;
      });
      this.#emit({ type: 'created', job: created });
      return created;
    });
  }

  /**
   * Queued; a job that could not start at once counts against its owner's waiting limit, and one
   * beyond it leaves the queue again (docs/decisions.md, Users and access: 429 with Retry-After).
   */
  #enqueueWithinLimit(job: JobRecord): void {
    this.#dispatcher.enqueue(job);
    const { maxWaiting } = this.#options.limits(job.owner);
    const waiting = this.#dispatcher.waiting(job.owner);
    if (!this.#dispatcher.isQueued(job.id) || waiting <= maxWaiting) return;
    this.#dispatcher.release(job.id);
    throw tooManyWaiting(job.owner, waiting - 1, maxWaiting);
  }

  /**
   * A job another orchestrator stored (docs/scale-out.md §3): queued here as if submitted here,
   * and refused (`too-many-requests`, left for the submitter to remove) beyond its owner's waiting
   * limit, which this queue alone holds exactly. A job already queued or handed out, finished, or
   * gone is left alone.
   */
  adopt(jobId: string): Promise<void> {
    return this.#perJob.run(jobId, async () => {
      if (this.#dispatcher.isQueued(jobId) || this.#dispatcher.assignment(jobId)) return;
      const job = await this.#options.jobStore.get(jobId);
      if (!job || job.status !== 'accepted' || job.agent !== null) return;
      this.#enqueueWithinLimit(job);
      this.#emit({ type: 'created', job });
    });
  }

  /** Resolves with the job once it is finished (successful, failed or dismissed). */
  waitUntilFinished(jobId: string, signal: AbortSignal): Promise<JobRecord> {
    return finishedJob((id) => this.follow(id), jobId, signal);
  }

  /** The job as it is now, then each later change a client sees; the read takes the job's turn. */
  follow(jobId: string): Promise<JobFollower> {
    return followJob(this.updates, jobId, () => this.#options.jobStore.get(jobId), (step) => this.#perJob.run(jobId, step));
  }

  /** DELETE /jobs/{id}: stops the run on its agent, then removes the job (OGC 18-062r2 §13, dismiss). */
  async dismiss(jobId: string): Promise<JobRecord> {
    const job = await this.stop(jobId, null);
    await this.#perJob.run(jobId, async () => {
      if (await this.#options.jobStore.remove(jobId)) this.#emit({ type: 'removed', job, reason: 'dismissed' });
    });
    await this.#options.removeFiles(jobId);
    return job;
  }

  /**
   * Retention: removes up to `limit` finished jobs kept longer than their keep time (their
   * process's own, else `keepMs`), then their files; returns how many went. Running and waiting
   * jobs are never touched: the store's condition is the job's status.
   */
  async expire(keepMs: number, limit: number): Promise<number> {
    const removed = await this.#options.jobStore.expire(keepMs, new Date(), limit);
    for (const job of removed) this.#emit({ type: 'removed', job, reason: 'expired' });
    await Promise.all(removed.map((job) => this.#removeFiles(job.id)));
    return removed.length;
  }

  /** POST /admin/jobs/{id}/kill: stops the run but keeps the job, dismissed by `by` (job-kills.ts). */
  kill(jobId: string, by: string): Promise<JobRecord> {
    return this.#kills.kill(jobId, by);
  }

  /** Ends a job as dismissed (job-kills.ts); finished jobs are returned as they are, marked dismissed. */
  stop(jobId: string, by: string | null): Promise<JobRecord> {
    return this.#kills.stop(jobId, by);
  }

  /**
   * The agent runs the job (`accepted`, or listed after a reconnect); a run nobody wants is stopped.
   * A job listed with `seq` 0 has not said it runs yet (docs/protocol.md §4.1.8): it is re-attached, not marked running.
   */
  running(jid: string, jobId: string, started = true): Promise<void> {
    return this.#perJob.run(jobId, async () => {
      // A job still handed to this agent is unfinished: only another one needs a read first.
      if (this.#dispatcher.assignment(jobId)?.agent !== jid) {
        const job = await this.#options.jobStore.get(jobId);
        if (!job || isFinished(job) || !(await this.#fromAssignee(jid, jobId, job))) {
          this.#options.send(jid, { v: 1, type: 'kill', job: jobId }).catch(() => undefined);
          return;
        }
        this.#dispatcher.adopt(job, jid);
      }
      this.#lost.cancel(jobId);
      if (started) await this.#markRunning(jid, jobId);
    });
  }

  async #markRunning(jid: string, jobId: string): Promise<JobRecord | undefined> {
    const back = this.#lost.notes.delete(jobId);
    const running = await this.#options.jobStore.markRunning(jobId, jid, new Date().toISOString(), back);
    if (running) {
      this.#knownRunning.add(jobId);
      this.#emit({ type: 'running', job: running });
    }
    return running;
  }

  /**
   * A progress event: one statement, which applies it only if its `seq` is new and the job unfinished.
   * A job still `accepted` runs from now: an agent says so by its first event (docs/protocol.md, quiet start).
   */
  progress(jid: string, jobId: string, seq: number, progress: number, message: string | null): Promise<void> {
    return this.#perJob.run(jobId, async () => {
      if (!(await this.#fromAssignee(jid, jobId))) return;
      const recorded = await this.#options.jobStore.recordProgress(jobId, seq, progress, message);
      const job = recorded?.status === 'accepted' ? ((await this.#markRunning(jid, jobId)) ?? recorded) : recorded;
      if (job) this.#emit({ type: 'progress', job });
    });
  }

  /** A terminal event from an agent; a run killed on request ends as dismissed, whatever it reports. */
  ended(jid: string, jobId: string, seq: number, outcome: JobOutcome): Promise<void> {
    return this.#perJob.run(jobId, async () => {
      // A job still handed to this agent (and not lost meanwhile) is unfinished: no read first.
      const ours = this.#dispatcher.assignment(jobId)?.agent === jid && !this.#lost.notes.has(jobId);
      const stored = ours ? undefined : await this.#options.jobStore.get(jobId);
      if (ours || (await this.#fromAssignee(jid, jobId, stored))) {
        // A run that ended before saying it runs still started: its record gets a start time (for
        // a job already running the write changes nothing). Both writes go in one batch, the start first.
        const started = (ours && !this.#knownRunning.has(jobId)) || stored?.status === 'accepted' ? this.#markRunning(jid, jobId) : undefined;
        await Promise.all([started, this.#finish(jobId, seq, this.#kills.outcome(jobId) ?? outcome)]);
      }
      // Acknowledged even when it was a repeat, so the agent stops resending it.
      this.#options.send(jid, { v: 1, type: 'ack', job: jobId, seq }).catch(() => undefined);
    });
  }

  /** The agent refused the job: a job it finds invalid fails, one it has no room for queues again. */
  rejected(jid: string, jobId: string, reason: string, message: string): Promise<void> {
    return this.#perJob.run(jobId, async () => {
      const job = await this.#options.jobStore.get(jobId);
      if (!(await this.#fromAssignee(jid, jobId, job))) return;
      if (!job || isFinished(job)) return this.#dispatcher.release(jobId);
      this.#options.logger.info({ job: jobId, agent: jid, reason }, 'agent refused a job');
      if (reason === 'invalid-inputs') {
        // The client's error, as when the agent accepts and then fails with `invalid-inputs` (HTTP 400).
        await this.#finish(jobId, 0, { status: 'failed', error: { code: 'invalid-inputs', message } });
        return;
      }
      this.#requeue(jobId, jid);
    });
  }

  /** The agent does not run a job we asked it to kill: nothing is left to stop. */
  notRunning(jid: string, jobId: string): Promise<void> {
    const outcome = this.#kills.outcome(jobId);
    if (!outcome || this.#dispatcher.assignment(jobId)?.agent !== jid) return Promise.resolve();
    return this.#perJob.run(jobId, async () => void (await this.#finish(jobId, 0, outcome)));
  }

  /**
   * The runs an agent reports after (re)connecting. A job handed to it that it does not list is
   * not running there; its terminal event, if any, follows at once from the agent's outbox, so
   * it gets a short grace instead of the long one.
   */
  async inFlight(jid: string, jobs: readonly { job: string; seq: number }[]): Promise<void> {
    const listed = new Map(jobs.map(({ job, seq }) => [job, seq]));
    for (const jobId of this.#dispatcher.jobsOn(jid)) {
      if (!listed.has(jobId)) this.#lost.startGrace(jobId, jid, Math.min(this.#options.graceMs, UNLISTED_GRACE_MS));
    }
    await Promise.all([...listed].map(([jobId, seq]) => this.running(jid, jobId, seq > 0)));
  }

  /** Whether jobs are handed to the agent now. */
  hasJobsOn(jid: string): boolean {
    return this.#dispatcher.jobsOn(jid).length > 0;
  }

  /** A lost agent's jobs get a grace period to be reported again (lost-agents.ts). */
  agentLost(jid: string): Promise<void> {
    return this.#lost.agentLost(jid);
  }

  /** After a restart: queued jobs queue again; dispatched ones wait for their agent to report them. Jobs already known are left as they are. */
  async resume(): Promise<void> {
    for (const job of await this.#options.jobStore.unfinished()) {
      if (this.#dispatcher.isQueued(job.id) || this.#dispatcher.assignment(job.id)) continue;
      if (job.agent === null) {
        this.#dispatcher.enqueue(job);
      } else {
        this.#dispatcher.adopt(job, job.agent);
        this.#lost.notes.add(job.id);
        this.#lost.startGrace(job.id, job.agent);
      }
    }
  }

  /** No grace period starts or ends any more. */
  close(): void {
    this.#lost.stop();
  }

  #emit(event: JobEvent): void {
    this.events.emit(event, (err) => this.#options.logger.error({ job: event.job.id, event: event.type, err: (err as Error).message }, 'a job event listener failed'));
  }

  /** A change nobody awaits: a failure is logged, never left unhandled. */
  #inBackground(jobId: string, step: () => Promise<unknown>): void {
    this.#perJob.run(jobId, step).catch((err: Error) => this.#options.logger.error({ job: jobId, err: err.message }, 'job change failed'));
  }

  /** Back to the head of its owner's queue; `refusedBy` rests that agent for the job. */
  #requeue(jobId: string, refusedBy?: string): void {
    if (!this.#dispatcher.requeue(jobId, refusedBy)) return;
    this.#knownRunning.delete(jobId);
    this.#inBackground(jobId, async () => {
      const job = await this.#options.jobStore.assign(jobId, null);
      if (job) this.#emit({ type: 'queued', job });
      this.#dispatcher.dispatchWaiting();
    });
  }

  async #finish(jobId: string, seq: number, outcome: JobOutcome): Promise<JobRecord | undefined> {
    // Stored first: a store that refuses the write (disk full) leaves the job as it was, still
    // holding its agent's slot, and the agent resends its unacknowledged terminal event later.
    const job = await this.#options.jobStore.finish(jobId, seq, outcome);
    // Before its slot is given again, so that placement sees how long this run took.
    if (job?.started && job.finished) this.#dispatcher.recordRun(job.processId, Date.parse(job.finished) - Date.parse(job.started));
    this.#knownRunning.delete(jobId);
    this.#lost.cancel(jobId);
    this.#lost.notes.delete(jobId);
    this.#dispatcher.release(jobId);
    if (!job) return undefined;
    this.#emit({ type: 'finished', job });
    if (hasStoredFiles(job.inputs)) this.#options.inputFiles.remove(jobId).catch((err: Error) => this.#options.logger.warn({ job: jobId, err: err.message }, 'input files of an ended job could not be removed'));
    // Files uploaded before a run failed (or was killed) belong to no result.
    if (job.status !== 'successful') void this.#removeFiles(jobId);
    return job;
  }

  /** A file that cannot be removed is logged; the job's record is gone or settled either way. */
  #removeFiles(jobId: string): Promise<void> {
    return this.#options.removeFiles(jobId).catch((err: Error) => this.#options.logger.warn({ job: jobId, err: err.message }, 'files of an ended job could not be removed'));
  }

  /** Whether `jid` may report on the job: only the agent it was handed to (now, or as recorded in the store). */
  async #fromAssignee(jid: string, jobId: string, stored?: JobRecord): Promise<boolean> {
    const assigned = this.#dispatcher.assignment(jobId)?.agent ?? (stored ?? (await this.#options.jobStore.get(jobId)))?.agent;
    if (assigned === jid) return true;
    this.#options.logger.warn({ job: jobId, from: jid, assigned }, 'event from an agent the job was not handed to');
    return false;
  }

  async #find(jobId: string): Promise<JobRecord> {
    const job = await this.#options.jobStore.get(jobId);
    if (!job) throw noSuchJob(jobId);
    return job;
  }
}

import type { Logger } from 'pino';
import type { AgentMessage, OrchestratorMessage, TerminalEvent } from '../../protocol/index.js';
import type { JobStore, JobOutcome } from '../store/job-store.js';
import { isFinished, type JobRecord } from '../store/job-record.js';
import { resultPath } from '../store/result-files.js';
import type { Dispatcher } from './dispatcher.js';
import type { JobUpdates } from './job-updates.js';
import type { JobManager } from './job-manager.js';

export interface AgentEventsOptions {
  store: JobStore;
  dispatcher: Dispatcher;
  updates: JobUpdates;
  manager: JobManager;
  send: (jid: string, message: OrchestratorMessage) => Promise<void>;
  /** How long a lost agent's jobs wait for it to come back before failing with `agent-lost`. */
  graceMs: number;
  /** Deletes the output files stored for a job. */
  removeFiles: (jobId: string) => Promise<void>;
  logger: Logger;
}

/** How long a job its agent does not list after reconnecting waits for a late terminal event. */
const UNLISTED_GRACE_MS = 3000;

/** Applies agents' job events to the store, idempotently by job id and sequence number (SPEC §4). */
export class AgentEvents {
  readonly #graceTimers = new Map<string, NodeJS.Timeout>();
  #stopped = false;
  readonly #options: AgentEventsOptions;

  constructor(options: AgentEventsOptions) {
    this.#options = options;
  }

  handle(jid: string, message: AgentMessage): void {
    switch (message.type) {
      case 'accepted':
        return this.#running(jid, message.job);
      case 'progress':
        return this.#progress(jid, message.job, message.seq, message.progress, message.message ?? null);
      case 'completed':
      case 'failed':
      case 'killed':
        return this.#terminal(jid, message);
      case 'rejected':
        return this.#rejected(jid, message);
      case 'jobs':
        return this.#inFlight(jid, message.jobs);
      case 'error':
        return this.#agentError(jid, message);
      case 'catalog':
        return;
    }
  }

  /** A lost agent's jobs get a grace period to be reported again (by `jobs` or a terminal event). */
  agentLost(jid: string): void {
    for (const jobId of this.#options.dispatcher.jobsOn(jid)) this.#startGrace(jobId, jid);
  }

  /** After a restart: queued jobs queue again; dispatched ones wait for their agent to report them. */
  resume(jobs: JobRecord[]): void {
    for (const job of jobs) {
      if (job.agent === null) {
        this.#options.dispatcher.enqueue(job);
      } else {
        this.#options.dispatcher.adopt(job, job.agent);
        this.#startGrace(job.id, job.agent);
      }
    }
  }

  /** A job whose `execute` can never be sent fails once, with the reason (never a requeue loop). */
  undeliverable(jobId: string, reason: string): void {
    this.#cancelGrace(jobId);
    this.#finish(jobId, 0, { status: 'failed', error: { code: 'undeliverable', message: reason } });
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#graceTimers.values()) clearTimeout(timer);
    this.#graceTimers.clear();
  }

  #startGrace(jobId: string, jid: string, ms = this.#options.graceMs): void {
    if (this.#stopped) return;
    clearTimeout(this.#graceTimers.get(jobId));
    const timer = setTimeout(() => this.#graceOver(jobId, jid), ms);
    timer.unref();
    this.#graceTimers.set(jobId, timer);
  }

  #cancelGrace(jobId: string): void {
    clearTimeout(this.#graceTimers.get(jobId));
    this.#graceTimers.delete(jobId);
  }

  #graceOver(jobId: string, jid: string): void {
    this.#graceTimers.delete(jobId);
    const job = this.#options.store.get(jobId);
    if (!job || isFinished(job)) return;
    if (job.status === 'accepted') {
      this.#options.logger.warn({ job: jobId, agent: jid }, 'agent lost before starting the job; requeued');
      this.#options.dispatcher.requeue(jobId);
      return;
    }
    this.#finish(jobId, 0, { status: 'failed', error: { code: 'agent-lost', message: `agent ${jid} was lost while running the job` } });
  }

  /** Whether `jid` may report on the job: only the agent it was handed to (now, or as recorded in the store). */
  #fromAssignee(jid: string, jobId: string): boolean {
    const assigned = this.#options.dispatcher.assignment(jobId)?.agent ?? this.#options.store.get(jobId)?.agent;
    if (assigned === jid) return true;
    this.#options.logger.warn({ job: jobId, from: jid, assigned }, 'event from an agent the job was not handed to');
    return false;
  }

  #running(jid: string, jobId: string): void {
    const job = this.#options.store.get(jobId);
    if (!job || isFinished(job) || !this.#fromAssignee(jid, jobId)) {
      // A run nobody wants any more (dismissed, or unknown after a restart) is stopped.
      this.#options.send(jid, { v: 1, type: 'kill', job: jobId }).catch(() => undefined);
      return;
    }
    this.#cancelGrace(jobId);
    if (!this.#options.dispatcher.assignment(jobId)) this.#options.dispatcher.adopt(job, jid);
    const running = this.#options.store.markRunning(jobId, jid, new Date().toISOString());
    if (running) this.#options.updates.publish(running);
  }

  #progress(jid: string, jobId: string, seq: number, progress: number, message: string | null): void {
    if (!this.#fromAssignee(jid, jobId)) return;
    if (!this.#options.store.recordProgress(jobId, seq, progress, message)) return;
    const job = this.#options.store.get(jobId);
    if (job) this.#options.updates.publish(job);
  }

  #terminal(jid: string, event: TerminalEvent): void {
    if (this.#fromAssignee(jid, event.job)) {
      this.#cancelGrace(event.job);
      this.#finish(event.job, event.seq, this.#outcome(event));
    }
    // Acknowledged even when it was a repeat, so the agent stops resending it.
    this.#options.send(jid, { v: 1, type: 'ack', job: event.job, seq: event.seq }).catch(() => undefined);
  }

  #outcomeOfKill(jobId: string): JobOutcome | undefined {
    const kill = this.#options.manager.pendingKills.get(jobId);
    return kill ? { status: 'dismissed', dismissedBy: kill.by } : undefined;
  }

  #outcome(event: TerminalEvent): JobOutcome {
    const killed = this.#outcomeOfKill(event.job);
    if (killed) return killed;
    switch (event.type) {
      case 'completed':
        return this.#completed(event);
      case 'failed': {
        const { v: _v, type: _t, job: _j, seq: _s, ...error } = event;
        return { status: 'failed', error };
      }
      case 'killed':
        return { status: 'failed', error: { code: 'signal', message: 'the run was stopped on its agent (the agent shut down)', signal: event.signal } };
    }
  }

  /** An output reported by reference must be one this server stored; anything else is refused, not served. */
  #completed(event: Extract<TerminalEvent, { type: 'completed' }>): JobOutcome {
    for (const [name, value] of Object.entries(event.outputs)) {
      if ('href' in value && value.href !== resultPath(event.job, name)) {
        return { status: 'failed', error: { code: 'output', message: `output '${name}' was reported at '${value.href.slice(0, 200)}', which is not where this server stores results` } };
      }
    }
    return { status: 'successful', results: event.outputs };
  }

  #finish(jobId: string, seq: number, outcome: JobOutcome): void {
    this.#options.dispatcher.release(jobId);
    const job = this.#options.store.finish(jobId, seq, outcome);
    if (!job) return;
    this.#options.updates.publish(job);
    // Files uploaded before a run failed (or was killed) belong to no result.
    if (job.status !== 'successful') {
      this.#options.removeFiles(jobId).catch((err: Error) => this.#options.logger.warn({ job: jobId, err: err.message }, 'files of an ended job could not be removed'));
    }
  }

  #rejected(jid: string, message: Extract<AgentMessage, { type: 'rejected' }>): void {
    const job = this.#options.store.get(message.job);
    if (!this.#fromAssignee(jid, message.job)) return;
    if (!job || isFinished(job)) return this.#options.dispatcher.release(message.job);
    this.#options.logger.info({ job: message.job, agent: jid, reason: message.reason }, 'agent refused a job');
    if (message.reason === 'invalid-inputs') {
      return this.#finish(message.job, 0, { status: 'failed', error: { code: 'rejected', message: message.message } });
    }
    this.#options.dispatcher.requeue(message.job, jid);
  }

  /** An agent that does not run a job we asked it to kill: nothing is left to stop. */
  #agentError(jid: string, message: Extract<AgentMessage, { type: 'error' }>): void {
    if (message.code !== 'unknown-job' || !message.job || !this.#options.manager.pendingKills.has(message.job)) return;
    if (this.#options.dispatcher.assignment(message.job)?.agent !== jid) return;
    this.#finish(message.job, 0, this.#outcomeOfKill(message.job)!);
  }

  /**
   * The runs an agent reports after (re)connecting. A job handed to it that it does not list is
   * not running there; its terminal event, if any, follows at once from the agent's outbox, so
   * it gets a short grace instead of the long one.
   */
  #inFlight(jid: string, jobs: { job: string; process: string }[]): void {
    const listed = new Set(jobs.map((j) => j.job));
    for (const jobId of listed) this.#running(jid, jobId);
    for (const jobId of this.#options.dispatcher.jobsOn(jid)) {
      if (!listed.has(jobId)) this.#startGrace(jobId, jid, Math.min(this.#options.graceMs, UNLISTED_GRACE_MS));
    }
  }
}

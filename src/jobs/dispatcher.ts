import type { Logger } from 'pino';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobRecord } from '../store/job-record.js';
import { REST_MS, Scheduler, type AgentSnapshot } from '../scheduler/scheduler.js';
import { UnsendableMessageError, type OrchestratorMessage } from '../../protocol/index.js';

export interface DispatcherOptions {
  registry: AgentRegistry;
  send: (jid: string, message: OrchestratorMessage) => Promise<void>;
  /** Looks a job up again when its turn comes (it may have been dismissed meanwhile). */
  load: (jobId: string) => JobRecord | undefined;
  /** Records which agent a job was handed to, so that a restart knows whom to ask about it. */
  assigned: (jobId: string, agent: string | null) => void;
  /** Where the job's agent uploads output files, with a token made for this dispatch. */
  uploadFor: (jobId: string) => { url: string; token: string };
  /** Ends a job whose `execute` can never be sent (sending it again would fail the same way). */
  undeliverable: (jobId: string, reason: string) => void;
  /** Jobs an owner may have running at once. */
  runningLimit?: (owner: string) => number;
  logger: Logger;
}

/**
 * The I/O side of placement: keeps the pure `Scheduler` fed with jobs and agents, and sends
 * `execute` for each placement. A job stays assigned from `execute` until its terminal event,
 * so capacity counts are our own, not the agent's last presence.
 */
export class Dispatcher {
  readonly #scheduler: Scheduler;
  readonly #options: DispatcherOptions;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#scheduler = new Scheduler(options.runningLimit);
  }

  assignment(jobId: string): { agent: string; processId: string } | undefined {
    return this.#scheduler.assignment(jobId);
  }

  jobsOn(agent: string): string[] {
    return this.#scheduler.jobsOn(agent);
  }

  isQueued(jobId: string): boolean {
    return this.#scheduler.isQueued(jobId);
  }

  waiting(owner: string): number {
    return this.#scheduler.waiting(owner);
  }

  queued(): number {
    return this.#scheduler.queued();
  }

  enqueue(job: JobRecord): void {
    this.#scheduler.enqueue({ id: job.id, owner: job.owner, processId: job.processId });
    this.dispatchWaiting();
  }

  /** Records a job already running on an agent (learned from the agent after a restart). */
  adopt(job: JobRecord, agent: string): void {
    this.#scheduler.adopt({ id: job.id, owner: job.owner, processId: job.processId }, agent);
  }

  /** Forgets a job (finished, dismissed or removed) and gives its slot to waiting jobs. */
  release(jobId: string): void {
    if (this.#scheduler.release(jobId)) this.dispatchWaiting();
  }

  /** Puts a job back at the head of its owner's queue, e.g. after `rejected: busy`. */
  requeue(jobId: string, refusedBy?: string): void {
    if (!this.#scheduler.assignment(jobId)) return;
    this.#scheduler.requeue(jobId, Date.now(), refusedBy);
    this.#options.assigned(jobId, null);
    if (refusedBy) setTimeout(() => this.dispatchWaiting(), REST_MS).unref();
    this.dispatchWaiting();
  }

  /** Hands waiting jobs to agents with room; jobs with no room stay queued. */
  dispatchWaiting(): void {
    if (this.#scheduler.queued() === 0) return;
    for (const { jobId, agent } of this.#scheduler.place(this.#snapshots(), Date.now())) {
      const job = this.#options.load(jobId);
      if (!job || job.status !== 'accepted') {
        this.#scheduler.release(jobId);
        continue;
      }
      this.#options.assigned(jobId, agent);
      this.#options.logger.debug({ job: jobId, agent }, 'dispatching');
      const upload = this.#options.uploadFor(jobId);
      this.#options.send(agent, { v: 1, type: 'execute', job: jobId, process: job.processId, inputs: job.inputs, upload }).catch((err: Error) => {
        if (err instanceof UnsendableMessageError) {
          this.#options.logger.warn({ job: jobId, err: err.message }, 'execute can never be sent; the job fails');
          this.release(jobId);
          this.#options.undeliverable(jobId, err.message);
          return;
        }
        // Rested like a refusal, so a link that keeps failing cannot spin the event loop.
        this.#options.logger.warn({ job: jobId, agent, err: err.message }, 'execute could not be sent; requeued');
        this.requeue(jobId, agent);
      });
    }
  }

  /** Agents as placement sees them; an agent offers a process only with its winning description (SPEC §6). */
  #snapshots(): AgentSnapshot[] {
    const offers = new Map<string, Map<string, number>>();
    for (const offered of this.#options.registry.processes()) {
      for (const jid of offered.agents) {
        const spec = this.#options.registry.agent(jid)?.processes.find((p) => p.id === offered.spec.id);
        if (!spec) continue;
        if (!offers.has(jid)) offers.set(jid, new Map());
        offers.get(jid)!.set(spec.id, spec.maxParallel);
      }
    }
    return this.#options.registry.agents().map((agent) => ({
      jid: agent.jid,
      slots: agent.load.slots,
      load1: agent.load.load1,
      cores: agent.load.cores,
      draining: agent.load.draining || this.#options.registry.isDrained(agent.jid),
      offers: offers.get(agent.jid) ?? new Map(),
    }));
  }
}

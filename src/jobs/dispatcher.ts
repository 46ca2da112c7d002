import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobRecord } from '../store/job-record.js';
import { REST_MS, Scheduler, type AgentSnapshot } from '../scheduler/scheduler.js';

export interface DispatcherOptions {
  registry: AgentRegistry;
  /** A job was placed on `agent`: the lifecycle records it and sends `execute`. */
  placed: (jobId: string, agent: string) => void;
  /** Jobs an owner may have running at once. */
  runningLimit?: (owner: string) => number;
}

/**
 * Keeps the pure `Scheduler` fed with jobs and agents, and reports each placement to the
 * lifecycle. A job stays assigned from `execute` until its terminal event, so capacity counts
 * are our own, not the agent's last presence.
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

  /** Puts a job back at the head of its owner's queue, e.g. after `rejected: busy`; false when it was not assigned. */
  requeue(jobId: string, refusedBy?: string): boolean {
    if (!this.#scheduler.assignment(jobId)) return false;
    this.#scheduler.requeue(jobId, Date.now(), refusedBy);
    if (refusedBy) setTimeout(() => this.dispatchWaiting(), REST_MS).unref();
    return true;
  }

  /** Hands waiting jobs to agents with room; jobs with no room stay queued. */
  dispatchWaiting(): void {
    if (this.#scheduler.queued() === 0) return;
    for (const { jobId, agent } of this.#scheduler.place(this.#snapshots(), Date.now())) this.#options.placed(jobId, agent);
  }

  /** Agents as placement sees them; an agent offers a process only with its winning description (docs/architecture.md, Placement; pools: docs/security.md). */
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

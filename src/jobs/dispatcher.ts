import type { Logger } from 'pino';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobRecord } from '../store/job-record.js';
import { pickAgent, type AgentCapacity } from '../scheduler/pick-agent.js';
import type { OrchestratorMessage } from '../protocol/index.js';

export interface DispatcherOptions {
  registry: AgentRegistry;
  send: (jid: string, message: OrchestratorMessage) => Promise<void>;
  /** Looks a job up again when its turn comes (it may have been dismissed meanwhile). */
  load: (jobId: string) => JobRecord | undefined;
  /** Records which agent a job was handed to, so that a restart knows whom to ask about it. */
  assigned: (jobId: string, agent: string | null) => void;
  logger: Logger;
}

/** How long an agent that refused a job is left out of placement. */
const REST_MS = 1000;

interface Assignment {
  agent: string;
  process: string;
}

/**
 * Places jobs on agents: a FIFO queue of waiting jobs and the jobs handed to each agent.
 * A job stays assigned from `execute` until its terminal event, so capacity counts are our own,
 * not the agent's last presence.
 */
export class Dispatcher {
  readonly #queue: string[] = [];
  readonly #assigned = new Map<string, Assignment>();
  readonly #restingUntil = new Map<string, number>();
  readonly #options: DispatcherOptions;

  constructor(options: DispatcherOptions) {
    this.#options = options;
  }

  assignment(jobId: string): Assignment | undefined {
    return this.#assigned.get(jobId);
  }

  jobsOn(agent: string): string[] {
    return [...this.#assigned].filter(([, a]) => a.agent === agent).map(([job]) => job);
  }

  isQueued(jobId: string): boolean {
    return this.#queue.includes(jobId);
  }

  enqueue(jobId: string): void {
    if (!this.#queue.includes(jobId) && !this.#assigned.has(jobId)) this.#queue.push(jobId);
    this.dispatchWaiting();
  }

  /** Records a job already running on an agent (learned from the agent after a restart). */
  adopt(jobId: string, agent: string, process: string): void {
    this.#removeFromQueue(jobId);
    this.#assigned.set(jobId, { agent, process });
  }

  /** Forgets a job (finished, dismissed or removed) and gives its slot to waiting jobs. */
  release(jobId: string): void {
    this.#removeFromQueue(jobId);
    if (this.#assigned.delete(jobId)) this.dispatchWaiting();
  }

  /**
   * Puts a job back at the head of the queue. An agent that refused it (busy, draining) knows
   * better than our counts, so it gets no job for a moment.
   */
  requeue(jobId: string, refusedBy?: string): void {
    if (this.#assigned.delete(jobId)) this.#options.assigned(jobId, null);
    if (!this.#queue.includes(jobId)) this.#queue.unshift(jobId);
    if (refusedBy) {
      this.#restingUntil.set(refusedBy, Date.now() + REST_MS);
      setTimeout(() => this.dispatchWaiting(), REST_MS).unref();
    }
    this.dispatchWaiting();
  }

  /** Hands queued jobs to agents with room, in queue order; jobs with no room stay queued. */
  dispatchWaiting(): void {
    for (const jobId of [...this.#queue]) {
      const job = this.#options.load(jobId);
      if (!job || job.status !== 'accepted') {
        this.#removeFromQueue(jobId);
        continue;
      }
      const agent = pickAgent(this.#candidates(job.processId));
      if (!agent) continue;
      this.#removeFromQueue(jobId);
      this.#assigned.set(jobId, { agent, process: job.processId });
      this.#options.assigned(jobId, agent);
      this.#options.logger.debug({ job: jobId, agent }, 'dispatching');
      this.#options.send(agent, { v: 1, type: 'execute', job: jobId, process: job.processId, inputs: job.inputs }).catch((err: Error) => {
        this.#options.logger.warn({ job: jobId, agent, err: err.message }, 'execute could not be sent; requeued');
        this.requeue(jobId);
      });
    }
  }

  #removeFromQueue(jobId: string): void {
    const at = this.#queue.indexOf(jobId);
    if (at >= 0) this.#queue.splice(at, 1);
  }

  #candidates(processId: string): AgentCapacity[] {
    const offered = this.#options.registry.process(processId);
    if (!offered) return [];
    const assignments = [...this.#assigned.values()];
    return offered.agents.flatMap((jid) => {
      const agent = this.#options.registry.agent(jid);
      if ((this.#restingUntil.get(jid) ?? 0) > Date.now()) return [];
      const spec = agent?.processes.find((p) => p.id === processId);
      if (!agent || !spec) return [];
      const mine = assignments.filter((a) => a.agent === jid);
      return [
        {
          jid,
          slots: agent.load.slots,
          running: mine.length,
          runningOfProcess: mine.filter((a) => a.process === processId).length,
          maxParallel: spec.maxParallel,
          load1: agent.load.load1,
          cores: agent.load.cores,
          draining: agent.load.draining,
        },
      ];
    });
  }
}

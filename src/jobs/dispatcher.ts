import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobRecord } from '../store/job-record.js';
import { Scheduler, type AgentSnapshot } from '../scheduler/scheduler.js';
import { RunTimes } from './run-times.js';

/**
 * An agent that keeps jobs waiting (`queue`, docs/protocol.md §2.1) is handed up to this many
 * times its slots and each process's `max_parallel`: one job waits per slot, so a freed slot never
 * waits for a round trip through the XMPP server (docs/decisions.md, Performance). Only behind
 * short runs (`RunTimes`).
 */
const QUEUE_SHARE = 2;

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
  readonly #runTimes = new RunTimes();
  #afterRest: NodeJS.Timeout | undefined;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#scheduler = new Scheduler(options.runningLimit, (processId) => this.#runTimes.isLong(processId));
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

  /** A run of the process took `ms`: whether its jobs may wait at agents follows its run times. */
  recordRun(processId: string, ms: number): void {
    this.#runTimes.record(processId, ms);
  }

  /** Forgets a job (finished, dismissed or removed) and gives its slot to waiting jobs. */
  release(jobId: string): void {
    if (this.#scheduler.release(jobId)) this.dispatchWaiting();
  }

  /** Puts a job back at the head of its owner's queue, e.g. after `rejected: busy`; false when it was not assigned. */
  requeue(jobId: string, refusedBy?: string): boolean {
    if (!this.#scheduler.assignment(jobId)) return false;
    const now = Date.now();
    this.#scheduler.requeue(jobId, now, refusedBy);
    this.#wakeAfterRest(now);
    return true;
  }

  /** Hands waiting jobs to agents with room; jobs with no room stay queued. */
  dispatchWaiting(): void {
    if (this.#scheduler.queued() === 0) return;
    const snapshots = this.#snapshots(this.#scheduler.queuedProcesses());
    const now = Date.now();
    for (const { jobId, agent } of this.#scheduler.place(snapshots, now)) this.#options.placed(jobId, agent);
    this.#wakeAfterRest(now);
  }

  /**
   * While jobs wait and an agent rests (`REST_MS` after a refusal), placement runs again when the
   * rest ends by the clock placement reads. A timer fires after its delay counted from the event
   * loop's time, which lags that clock by however long the current turn has run, so one set for
   * the rest's length alone could come early, find the agent still resting, and leave the job
   * waiting for whatever dispatches next.
   */
  #wakeAfterRest(now: number): void {
    if (this.#afterRest !== undefined || this.#scheduler.queued() === 0) return;
    const ends = this.#scheduler.restEnds(now);
    if (ends === undefined) return;
    this.#afterRest = setTimeout(() => {
      this.#afterRest = undefined;
      this.dispatchWaiting();
    }, ends - now + 1);
    this.#afterRest.unref();
  }

  /**
   * The agents offering the waiting jobs' processes, as placement sees them; an agent offers a
   * process only with its winning description (docs/architecture.md, Placement; pools:
   * docs/security.md). Only those agents: a dispatch must not cost a pass over a whole fleet.
   */
  #snapshots(processIds: Set<string>): AgentSnapshot[] {
    const { registry } = this.#options;
    const snapshots = new Map<string, AgentSnapshot & { offers: Map<string, number> }>();
    for (const processId of processIds) {
      for (const jid of registry.process(processId)?.agents ?? []) {
        const agent = registry.agent(jid);
        const spec = agent?.processes.find((p) => p.id === processId);
        if (!agent || !spec) continue;
        let snapshot = snapshots.get(jid);
        if (!snapshot) {
          const { slots, load1, cores, draining, features } = agent.load;
          const queueShare = features?.includes('queue') ? QUEUE_SHARE : 1;
          snapshot = { jid, slots, queueShare, load1, cores, draining: draining || registry.isDrained(jid), offers: new Map() };
          snapshots.set(jid, snapshot);
        }
        snapshot.offers.set(processId, spec.maxParallel);
      }
    }
    return [...snapshots.values()];
  }
}

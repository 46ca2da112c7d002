import { FairQueue } from './fair-queue.js';
import { pickAgent, type AgentCapacity } from './pick-agent.js';

export interface SchedulerJob {
  id: string;
  owner: string;
  processId: string;
}

/** An agent as placement sees it: capacity and what it offers, with each process's `max_parallel`. */
export interface AgentSnapshot {
  jid: string;
  slots: number;
  /**
   * How many jobs per slot (and per `max_parallel`) the agent may hold, counting the one it runs:
   * 2 for an agent that keeps jobs waiting (`queue`), 1 (the default) for one that does not. Only
   * short runs get waiting jobs (see `Scheduler`).
   */
  queueShare?: number;
  load1: number;
  cores: number;
  draining: boolean;
  offers: ReadonlyMap<string, number>;
}

export interface Placement {
  jobId: string;
  agent: string;
}

interface Assignment extends SchedulerJob {
  agent: string;
  /** Whether the job's process ran long when it was handed out. */
  long: boolean;
}

/** How long an agent that refused a job is left out of placement. */
export const REST_MS = 1000;

/**
 * Placement of jobs on agents (docs/architecture.md, Placement), as pure state: a fair queue of waiting jobs and the jobs
 * handed to each agent. Time and agents are passed in; nothing here does I/O.
 */
export class Scheduler {
  readonly #queue = new FairQueue<SchedulerJob>();
  readonly #assigned = new Map<string, Assignment>();
  readonly #restingUntil = new Map<string, number>();
  /** Counts of assigned jobs by agent, by agent and process, and by owner: placement reads them for every queued job. */
  readonly #counts = new Map<string, number>();

  /**
   * @param runningLimit jobs an owner may have running at once (Infinity for no limit).
   * @param runsLong whether a process's runs are long: a job of such a process never waits at an
   * agent, and an agent running one gets no waiting job, since a job waiting behind a long run
   * cannot move to an agent that frees up meanwhile (docs/decisions.md, Performance).
   */
  constructor(
    private readonly runningLimit: (owner: string) => number = () => Infinity,
    private readonly runsLong: (processId: string) => boolean = () => false,
  ) {}

  assignment(jobId: string): Assignment | undefined {
    return this.#assigned.get(jobId);
  }

  jobsOn(agent: string): string[] {
    return [...this.#assigned.values()].filter((a) => a.agent === agent).map((a) => a.id);
  }

  /** Jobs handed to an agent and not yet finished. */
  runningOn(agent: string): number {
    return this.#counts.get(`agent\n${agent}`) ?? 0;
  }

  isQueued(jobId: string): boolean {
    return this.#queue.has(jobId);
  }

  waiting(owner: string): number {
    return this.#queue.waiting(owner);
  }

  /** Jobs waiting, of all owners. */
  queued(): number {
    return this.#queue.size;
  }

  /** The processes that waiting jobs are for: placement needs only the agents offering them. */
  queuedProcesses(): Set<string> {
    return new Set(this.#queue.processes());
  }

  running(owner: string): number {
    return this.#counts.get(`owner\n${owner}`) ?? 0;
  }

  enqueue(job: SchedulerJob): void {
    if (!this.#queue.has(job.id) && !this.#assigned.has(job.id)) this.#queue.push(job);
  }

  /** Records a job already running on an agent (learned from the agent, e.g. after a restart). */
  adopt(job: SchedulerJob, agent: string): void {
    this.#queue.remove(job.id);
    this.#unassign(job.id);
    this.#assign(job, agent);
  }

  /** Forgets a job, queued or assigned; returns whether it held a slot. */
  release(jobId: string): boolean {
    this.#queue.remove(jobId);
    return this.#unassign(jobId) !== undefined;
  }

  /**
   * Puts an assigned job back at the head of its owner's queue. An agent that refused it knows
   * better than our counts, so it is left out of placement for `REST_MS`.
   */
  requeue(jobId: string, now: number, refusedBy?: string): void {
    const assignment = this.#unassign(jobId);
    if (!assignment) return;
    const { agent: _agent, long: _long, ...job } = assignment;
    this.#queue.unshift(job);
    if (refusedBy) this.#restingUntil.set(refusedBy, now + REST_MS);
  }

  /** When the earliest rest not over at `now` ends; undefined when no agent rests. Rests that are over are forgotten. */
  restEnds(now: number): number | undefined {
    let earliest: number | undefined;
    for (const [jid, until] of this.#restingUntil) {
      if (until <= now) this.#restingUntil.delete(jid);
      else if (earliest === undefined || until < earliest) earliest = until;
    }
    return earliest;
  }

  /** Places as many waiting jobs as fit, fairly across owners, least loaded agent first. */
  place(agents: readonly AgentSnapshot[], now: number): Placement[] {
    const placements: Placement[] = [];
    const available = agents.filter((a) => (this.#restingUntil.get(a.jid) ?? 0) <= now && !a.draining);
    let freeSlots = available.reduce((sum, a) => sum + Math.max(0, a.slots * (a.queueShare ?? 1) - (this.#counts.get(`agent\n${a.jid}`) ?? 0)), 0);
    if (freeSlots === 0 || this.#queue.size === 0) return placements;
    // Asked once per owner and pass: a limit may cost a store lookup.
    const limits = new Map<string, number>();
    const limitOf = (owner: string) => limits.get(owner) ?? limits.set(owner, this.runningLimit(owner)).get(owner)!;
    this.#queue.drain((job) => {
      if (freeSlots === 0) return 'stop';
      if (this.running(job.owner) >= limitOf(job.owner)) return 'owner-full';
      const long = this.runsLong(job.processId);
      const agent = pickAgent(available.flatMap((a) => this.#capacity(a, job.processId, long)));
      // Room only shrinks during a pass: the queue offers no more jobs of a process found without room.
      if (!agent) return 'process-full';
      freeSlots -= 1;
      this.#assign(job, agent, long);
      placements.push({ jobId: job.id, agent });
      return 'placed';
    });
    return placements;
  }

  #capacity(agent: AgentSnapshot, processId: string, long: boolean): AgentCapacity[] {
    const maxParallel = agent.offers.get(processId);
    if (maxParallel === undefined) return [];
    const share = long || this.#counts.has(`long\n${agent.jid}`) ? 1 : (agent.queueShare ?? 1);
    return [
      {
        jid: agent.jid,
        slots: agent.slots * share,
        running: this.#counts.get(`agent\n${agent.jid}`) ?? 0,
        runningOfProcess: this.#counts.get(`process\n${agent.jid}\n${processId}`) ?? 0,
        maxParallel: maxParallel * share,
        load1: agent.load1,
        cores: agent.cores,
        draining: agent.draining,
      },
    ];
  }

  #keys(a: Assignment): string[] {
    const keys = [`agent\n${a.agent}`, `process\n${a.agent}\n${a.processId}`, `owner\n${a.owner}`];
    if (a.long) keys.push(`long\n${a.agent}`);
    return keys;
  }

  #assign(job: SchedulerJob, agent: string, long = this.runsLong(job.processId)): void {
    const assignment: Assignment = { id: job.id, owner: job.owner, processId: job.processId, agent, long };
    this.#assigned.set(assignment.id, assignment);
    for (const key of this.#keys(assignment)) this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  #unassign(jobId: string): Assignment | undefined {
    const assignment = this.#assigned.get(jobId);
    if (!assignment) return undefined;
    this.#assigned.delete(jobId);
    for (const key of this.#keys(assignment)) {
      const count = (this.#counts.get(key) ?? 1) - 1;
      if (count === 0) this.#counts.delete(key);
      else this.#counts.set(key, count);
    }
    return assignment;
  }
}

import type { JobRecord } from '../store/job-record.js';

/** One timer per job, for the grace periods of jobs whose agent is away; none start once stopped. */
export class GraceTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  /** (Re)starts the job's timer. */
  start(jobId: string, ms: number, over: () => void): void {
    if (this.#stopped) return;
    clearTimeout(this.#timers.get(jobId));
    const timer = setTimeout(() => {
      this.#timers.delete(jobId);
      over();
    }, ms);
    timer.unref();
    this.#timers.set(jobId, timer);
  }

  cancel(jobId: string): void {
    clearTimeout(this.#timers.get(jobId));
    this.#timers.delete(jobId);
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}

/** Whole seconds in UTC: clients of the orchestrator may be in any time zone. */
const utcSeconds = (time: number) => new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What a job whose agent was lost says until the agent comes back or the grace is over. */
export function lostAgentNote(jid: string, status: JobRecord['status'], lostAt: Date, graceMs: number): string {
  const then = status === 'running' ? 'the job fails' : 'the job goes back to the queue';
  return `agent ${jid} lost at ${utcSeconds(lostAt.getTime())}; ${then} at ${utcSeconds(lostAt.getTime() + graceMs)} unless it comes back`;
}

/** What the queue needs to know of a job that waits for a slot. */
export interface WaitingRun {
  job: string;
  process: string;
  /** How many runs of its process this agent allows at once (its `max_parallel`, capped by the slots). */
  limit: number;
}

/** The runs in progress, as the queue sees them when a slot frees. */
export interface RunningCounts {
  total: number;
  ofProcess: (process: string) => number;
}

/**
 * Jobs handed to this agent beyond its slots (docs/protocol.md §2.1, `queue`): at most one per
 * slot, in arrival order. Each starts when a slot and its process's limit allow, so a freed slot
 * is filled without waiting for the orchestrator (docs/decisions.md, Performance).
 */
export class WaitingRuns<Run extends WaitingRun> {
  readonly #runs = new Map<string, Run>();

  /** `slots` both bounds the queue and is the number of runs that may go on at once. */
  constructor(readonly slots: number) {}

  get size(): number {
    return this.#runs.size;
  }

  get full(): boolean {
    return this.#runs.size >= this.slots;
  }

  get(job: string): Run | undefined {
    return this.#runs.get(job);
  }

  /** In arrival order. */
  all(): Run[] {
    return [...this.#runs.values()];
  }

  /** Adds the run at the end; false, and nothing changes, when the queue is full or already holds the job. */
  add(run: Run): boolean {
    if (this.full || this.#runs.has(run.job)) return false;
    this.#runs.set(run.job, run);
    return true;
  }

  remove(job: string): Run | undefined {
    const run = this.#runs.get(job);
    this.#runs.delete(job);
    return run;
  }

  /** Takes the first run that may start beside `running`: a free slot, and its process under its limit. */
  takeNext(running: RunningCounts): Run | undefined {
    if (running.total >= this.slots) return undefined;
    for (const run of this.#runs.values()) {
      if (running.ofProcess(run.process) < run.limit) return this.remove(run.job);
    }
    return undefined;
  }

  /** Empties the queue, e.g. to hand every run back when the agent drains. */
  takeAll(): Run[] {
    const runs = this.all();
    this.#runs.clear();
    return runs;
  }
}

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

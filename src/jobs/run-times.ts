/**
 * A run counts as long past this many milliseconds on average: long enough that a job waiting
 * behind it at an agent could start sooner elsewhere, and that the round trip a waiting job saves
 * (a few ms, docs/decisions.md, Performance) is well under 1 % of the run.
 */
export const LONG_RUN_MS = 1000;

/** Weight of the newest run in the moving average, so a process that changes is seen within a few runs. */
const NEWEST_WEIGHT = 0.3;

/**
 * The recent run times of each process this orchestrator has seen end, as a moving average.
 * A process with no run yet counts as short.
 */
export class RunTimes {
  readonly #averageMs = new Map<string, number>();

  record(processId: string, ms: number): void {
    const average = this.#averageMs.get(processId);
    this.#averageMs.set(processId, average === undefined ? ms : average + NEWEST_WEIGHT * (ms - average));
  }

  isLong(processId: string): boolean {
    return (this.#averageMs.get(processId) ?? 0) > LONG_RUN_MS;
  }
}

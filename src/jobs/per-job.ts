/**
 * Runs the steps given for one job one after another, in the order they were given, so that a
 * slow store cannot let a later change of a job overtake an earlier one. Steps of different
 * jobs do not wait for each other.
 */
export class PerJob {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(jobId: string, step: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(jobId) ?? Promise.resolve()).then(step);
    const tail = result.catch(() => undefined);
    this.#tails.set(jobId, tail);
    void tail.then(() => {
      if (this.#tails.get(jobId) === tail) this.#tails.delete(jobId);
    });
    return result;
  }
}

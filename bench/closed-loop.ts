import { performance } from 'node:perf_hooks';

export interface LoopResult {
  /** Operations that succeeded; their latencies are in `latenciesMs`. */
  completed: number;
  errors: number;
  firstError: string | undefined;
  elapsedMs: number;
  latenciesMs: number[];
  /** Whether the time limit, not the count, ended the loop. */
  timedOut: boolean;
}

export interface LoopOptions {
  count: number;
  concurrency: number;
  timeLimitMs: number;
  /** One operation; it throws to count as an error. */
  operation: (index: number) => Promise<void>;
}

/**
 * `concurrency` workers, each starting its next operation when its previous one ends (a closed
 * loop, like clients that wait for their answer), until `count` operations were started or
 * `timeLimitMs` passed.
 */
export async function closedLoop(options: LoopOptions): Promise<LoopResult> {
  const result: LoopResult = { completed: 0, errors: 0, firstError: undefined, elapsedMs: 0, latenciesMs: [], timedOut: false };
  const started = performance.now();
  const deadline = started + options.timeLimitMs;
  let issued = 0;
  const worker = async () => {
    while (issued < options.count) {
      if (performance.now() > deadline) {
        result.timedOut = true;
        return;
      }
      const index = issued++;
      const begin = performance.now();
      try {
        await options.operation(index);
        result.latenciesMs.push(performance.now() - begin);
        result.completed++;
      } catch (error) {
        result.errors++;
        result.firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  result.elapsedMs = performance.now() - started;
  return result;
}

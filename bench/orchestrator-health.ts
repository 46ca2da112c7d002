import { monitorEventLoopDelay } from 'node:perf_hooks';

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
const ms = (ns: number) => Math.round(ns / 1e4) / 100;

export interface OrchestratorHealth {
  /** Peaks of `process.memoryUsage()` since the last reset, MiB: where resident memory goes. */
  memoryPeakMiB: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  /** Event-loop delay since the last reset (`perf_hooks.monitorEventLoopDelay`, 10 ms resolution), ms. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

/**
 * Inside the orchestrator's process: its memory by kind, sampled every 250 ms, and how long its
 * event loop stalled. What the bench sees from /proc says how much; this says which part of it.
 */
export class HealthSampler {
  readonly #delay = monitorEventLoopDelay({ resolution: 10 });
  readonly #timer: NodeJS.Timeout;
  #peak: OrchestratorHealth['memoryPeakMiB'] = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };

  constructor() {
    this.#delay.enable();
    this.#timer = setInterval(() => this.#sample(), 250);
    this.#timer.unref();
  }

  #sample(): void {
    const usage = process.memoryUsage();
    for (const key of Object.keys(this.#peak) as (keyof OrchestratorHealth['memoryPeakMiB'])[]) this.#peak[key] = Math.max(this.#peak[key], mib(usage[key]));
  }

  /** The figures since the last call, then starts over. */
  take(): OrchestratorHealth {
    this.#sample();
    const health = {
      memoryPeakMiB: this.#peak,
      eventLoopDelayMs: { p50: ms(this.#delay.percentile(50)), p99: ms(this.#delay.percentile(99)), max: ms(this.#delay.max) },
    };
    this.#peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
    this.#delay.reset();
    return health;
  }
}

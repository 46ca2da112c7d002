import { performance } from 'node:perf_hooks';
import type { Progress } from './progress-parser.js';

export const PROGRESS_INTERVAL_MS = 250;

/**
 * Limits progress reports to one per interval. The latest report is kept and delivered when the
 * interval has passed (or at `flush`), and a report equal to the last delivered one is dropped.
 */
export class ProgressCoalescer {
  private delivered: Progress | undefined;
  private pending: Progress | undefined;
  private deliveredAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deliver: (progress: Progress) => void,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
  ) {}

  push(progress: Progress): void {
    if (sameProgress(progress, this.delivered)) {
      this.pending = undefined;
      return;
    }
    this.pending = progress;
    if (this.timer) return;
    const wait = this.deliveredAt + this.intervalMs - performance.now();
    if (wait <= 0) {
      this.send();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, wait);
  }

  /** Delivers the pending report now: the run has ended and its outcome must not wait. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.send();
  }

  private send(): void {
    const progress = this.pending;
    if (!progress) return;
    this.pending = undefined;
    this.delivered = progress;
    this.deliveredAt = performance.now();
    this.deliver(progress);
  }
}

function sameProgress(a: Progress, b: Progress | undefined): boolean {
  return b !== undefined && a.progress === b.progress && a.message === b.message;
}

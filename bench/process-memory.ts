import { readFileSync } from 'node:fs';

/** Resident memory of a process in bytes, from /proc; 0 once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** Samples the resident memory of named groups of processes at a fixed interval, keeping the peak and the last sample. */
export class RssSampler {
  readonly #peak = new Map<string, number>();
  readonly #last = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly parts: Record<string, number[]>,
    intervalMs = 250,
  ) {
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  sample(): void {
    for (const [name, pids] of Object.entries(this.parts)) {
      const bytes = pids.reduce((sum, pid) => sum + rssBytes(pid), 0);
      this.#last.set(name, bytes);
      this.#peak.set(name, Math.max(bytes, this.#peak.get(name) ?? 0));
    }
  }

  /** MiB by part now. */
  current(): Record<string, number> {
    this.sample();
    return Object.fromEntries(Object.keys(this.parts).map((name) => [name, mib(this.#last.get(name) ?? 0)]));
  }

  /** MiB by part: the peak over the run and the last sample. */
  report(): Record<string, { peakMiB: number; lastMiB: number }> {
    clearInterval(this.#timer);
    return Object.fromEntries(Object.keys(this.parts).map((name) => [name, { peakMiB: mib(this.#peak.get(name) ?? 0), lastMiB: mib(this.#last.get(name) ?? 0) }]));
  }
}

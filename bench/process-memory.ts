import { readFileSync } from 'node:fs';

/** Resident set size of one process in MiB (VmRSS), or undefined once it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** RSS now, in MiB, of each named process (for agents: the largest of them). */
export function rssByPart(parts: Record<string, number[]>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(parts).map(([name, pids]) => [name, Math.max(...pids.map((pid) => rssMiB(pid) ?? 0)) || null]));
}

const SAMPLE_MS = 100;

/** Samples RSS while a phase runs and keeps each part's peak. */
export class PeakRss {
  readonly #peak: Record<string, number | null>;
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly parts: Record<string, number[]>) {
    this.#peak = rssByPart(parts);
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
  }

  #sample(): void {
    for (const [name, mib] of Object.entries(rssByPart(this.parts))) this.#peak[name] = Math.max(this.#peak[name] ?? 0, mib ?? 0) || null;
  }

  stop(): Record<string, number | null> {
    clearInterval(this.#timer);
    this.#sample();
    return this.#peak;
  }
}

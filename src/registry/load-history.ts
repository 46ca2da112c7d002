/** The agent's load as one presence reported it. */
export interface LoadSample {
  at: Date;
  running: number;
  slots: number;
  load1: number;
}

/** How far back an agent's load is kept, and how many samples at most, so memory stays small. */
export const LOAD_HISTORY_MS = 10 * 60_000;
export const LOAD_HISTORY_SAMPLES = 60;

/** Numbers per sample: time (ms), running, slots, load1. */
const FIELDS = 4;

/**
 * One agent's load at each presence, oldest first, as numbers in a ring that grows up to 60
 * samples. As objects with a Date each, 60 samples of 10,000 agents took 110 MiB of heap; here
 * 20 MiB (docs/decisions.md, Fleets). Samples are made as objects only when read.
 */
export class LoadHistory {
  #values = new Float64Array(4 * FIELDS);
  /** Ring index of the oldest sample. */
  #start = 0;
  #length = 0;

  get #capacity(): number {
    return this.#values.length / FIELDS;
  }

  /** Appends, dropping the samples that are too old or too many. */
  record(sample: LoadSample): void {
    if (this.#length === this.#capacity) {
      if (this.#capacity < LOAD_HISTORY_SAMPLES) this.#grow();
      else this.#dropOldest();
    }
    const at = (this.#start + this.#length) % this.#capacity;
    this.#values.set([sample.at.getTime(), sample.running, sample.slots, sample.load1], at * FIELDS);
    this.#length++;
    const oldest = sample.at.getTime() - LOAD_HISTORY_MS;
    while (this.#values[this.#start * FIELDS]! < oldest) this.#dropOldest();
  }

  samples(): LoadSample[] {
    return Array.from({ length: this.#length }, (_, i) => {
      const at = ((this.#start + i) % this.#capacity) * FIELDS;
      const [time, running, slots, load1] = this.#values.subarray(at, at + FIELDS) as unknown as [number, number, number, number];
      return { at: new Date(time), running, slots, load1 };
    });
  }

  #dropOldest(): void {
    this.#start = (this.#start + 1) % this.#capacity;
    this.#length--;
  }

  /** Twice the room (at most the limit), oldest sample first. */
  #grow(): void {
    const values = new Float64Array(Math.min(2 * this.#capacity, LOAD_HISTORY_SAMPLES) * FIELDS);
    for (let i = 0; i < this.#length; i++) {
      const from = ((this.#start + i) % this.#capacity) * FIELDS;
      values.set(this.#values.subarray(from, from + FIELDS), i * FIELDS);
    }
    this.#values = values;
    this.#start = 0;
  }
}

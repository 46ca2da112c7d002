import type { ProcessSpec } from '../../protocol/index.js';

/** Distinct parts kept for sharing; the least recently seen go first, so a stream of unique ones costs little. */
const SHARED_PARTS = 4096;

/**
 * One copy of each part of a process description that agents send alike. Every agent of a fleet
 * sends its own copy of the same titles, inputs and outputs, and each parsed copy stayed in memory
 * for as long as the agent was online: a third of the registry's memory with 100,000 process ids
 * (docs/decisions.md, Fleets). Descriptions are never changed once received, so sharing is safe.
 */
export class SharedParts {
  /** JSON text of a part to the copy kept. */
  readonly #parts = new Map<string, unknown>();

  /** The same description with each part (but the id, nearly always unique) replaced by the copy kept. */
  spec(spec: ProcessSpec): ProcessSpec {
    const shared: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(spec)) shared[key] = key === 'id' ? value : this.#part(value);
    return shared as ProcessSpec;
  }

  #part(value: unknown): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'string')) return value;
    const key = JSON.stringify(value);
    const kept = this.#parts.get(key);
    if (kept !== undefined) {
      // Seen again: moved to the end, the most recent.
      this.#parts.delete(key);
      this.#parts.set(key, kept);
      return kept;
    }
    this.#parts.set(key, value);
    if (this.#parts.size > SHARED_PARTS) this.#parts.delete(this.#parts.keys().next().value!);
    return value;
  }
}

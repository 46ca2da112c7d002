/** An entry of an `IndexedHeap` carries its own position, so it can leave the heap in O(log n). -1: not in a heap. */
export interface HeapEntry {
  heapIndex: number;
}

/**
 * A binary min-heap whose entries know where they are: push, pop and remove cost O(log n).
 * `steps` counts the entries compared, so a test can check the work done rather than the time.
 */
export class IndexedHeap<T extends HeapEntry> {
  readonly #entries: T[] = [];
  steps = 0;

  /** @param before whether `a` comes out before `b` */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.#entries.length;
  }

  push(entry: T): void {
    entry.heapIndex = this.#entries.length;
    this.#entries.push(entry);
    this.#up(entry.heapIndex);
  }

  pop(): T | undefined {
    const first = this.#entries[0];
    if (first) this.remove(first);
    return first;
  }

  remove(entry: T): void {
    const index = entry.heapIndex;
    if (this.#entries[index] !== entry) return;
    const last = this.#entries.pop()!;
    entry.heapIndex = -1;
    if (last === entry) return;
    this.#put(last, index);
    this.#up(index);
    this.#down(last.heapIndex);
  }

  #up(index: number): void {
    const entry = this.#entries[index]!;
    while (index > 0) {
      const parent = this.#entries[(index - 1) >> 1]!;
      if (!this.#comes(entry, parent)) break;
      this.#put(parent, index);
      index = (index - 1) >> 1;
    }
    this.#put(entry, index);
  }

  #down(index: number): void {
    const entry = this.#entries[index]!;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= this.#entries.length) break;
      const right = this.#entries[child + 1];
      if (right && this.#comes(right, this.#entries[child]!)) child += 1;
      if (!this.#comes(this.#entries[child]!, entry)) break;
      this.#put(this.#entries[child]!, index);
      index = child;
    }
    this.#put(entry, index);
  }

  #comes(a: T, b: T): boolean {
    this.steps += 1;
    return this.before(a, b);
  }

  #put(entry: T, index: number): void {
    this.#entries[index] = entry;
    entry.heapIndex = index;
  }
}

/** Something waiting in a queue on behalf of an owner. */
export interface Owned {
  id: string;
  owner: string;
}

/**
 * Waiting items, first in first out per owner, served round-robin across owners (docs/architecture.md, Placement: one
 * user's thousand jobs do not starve another's one). Pure data structure.
 */
export class FairQueue<T extends Owned> {
  readonly #byOwner = new Map<string, T[]>();
  /** When each owner was last served; owners never served come first, then the longest waiting. */
  readonly #servedAt = new Map<string, number>();
  #tick = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(id: string): boolean {
    return this.#find(id) !== undefined;
  }

  /** Number of items an owner has waiting. */
  waiting(owner: string): number {
    return this.#byOwner.get(owner)?.length ?? 0;
  }

  /** Every waiting item, in no particular order. */
  *items(): IterableIterator<T> {
    for (const queue of this.#byOwner.values()) yield* queue;
  }

  push(item: T): void {
    this.#queueOf(item.owner).push(item);
    this.#size += 1;
  }

  /** Puts an item back at the head of its owner's queue (it was taken but could not be placed). */
  unshift(item: T): void {
    this.#queueOf(item.owner).unshift(item);
    this.#size += 1;
  }

  remove(id: string): T | undefined {
    const found = this.#find(id);
    if (!found) return undefined;
    const [queue, index] = found;
    const [item] = queue.splice(index, 1);
    this.#size -= 1;
    if (queue.length === 0) this.#byOwner.delete(item!.owner);
    return item;
  }

  /**
   * Offers waiting items to `place` in fair order: one item per owner per round, round after
   * round, until a whole round places nothing. Within an owner, an item that cannot be placed now
   * (e.g. its process has no free agent) does not block the owner's later items. `place` returns
   * true when it took the item.
   */
  drain(place: (item: T) => boolean): void {
    for (;;) {
      let placedThisRound = false;
      const order = [...this.#byOwner.keys()].sort((a, b) => (this.#servedAt.get(a) ?? -1) - (this.#servedAt.get(b) ?? -1));
      for (const owner of order) {
        const queue = this.#byOwner.get(owner);
        if (!queue) continue;
        const index = queue.findIndex((item) => place(item));
        if (index < 0) continue;
        queue.splice(index, 1);
        this.#size -= 1;
        placedThisRound = true;
        this.#servedAt.set(owner, ++this.#tick);
        if (queue.length === 0) this.#byOwner.delete(owner);
      }
      if (!placedThisRound) return;
    }
  }

  #queueOf(owner: string): T[] {
    let queue = this.#byOwner.get(owner);
    if (!queue) {
      queue = [];
      this.#byOwner.set(owner, queue);
    }
    return queue;
  }

  #find(id: string): [T[], number] | undefined {
    for (const queue of this.#byOwner.values()) {
      const index = queue.findIndex((item) => item.id === id);
      if (index >= 0) return [queue, index];
    }
    return undefined;
  }
}

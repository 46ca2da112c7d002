import { IndexedHeap, type HeapEntry } from './indexed-heap.js';

/** Something waiting in a queue on behalf of an owner, for a process. */
export interface Queued {
  id: string;
  owner: string;
  processId: string;
}

/**
 * What became of an item offered by `drain`: taken; left because its owner may take no more
 * now; left because its process has no room now; or left because nothing more fits at all.
 */
export type Offer = 'placed' | 'owner-full' | 'process-full' | 'stop';

interface Node<T> {
  item: T;
  /** Order within the owner: pushed items count up, items put back at the head count down below zero. */
  seq: number;
  line: Line<T>;
  prev: Node<T> | undefined;
  next: Node<T> | undefined;
}

/** One owner's items of one process, first in first out. */
interface Line<T> {
  processId: string;
  head: Node<T> | undefined;
  tail: Node<T> | undefined;
}

interface OwnerQueue<T> extends HeapEntry {
  owner: string;
  /** When the owner's queue was created: order among owners served equally long ago. */
  arrival: number;
  lines: Map<string, Line<T>>;
  size: number;
}

/**
 * Waiting items, first in first out per owner, served round-robin across owners (docs/architecture.md, Placement: one
 * user's thousand jobs do not starve another's one). Pure data structure. Owners wait in a heap
 * ordered by when they were last served and each owner's items in one list per process, so
 * placing an item costs O(log owners) whatever the length of the queue (docs/decisions.md, Performance).
 */
export class FairQueue<T extends Queued> {
  readonly #nodes = new Map<string, Node<T>>();
  readonly #byOwner = new Map<string, OwnerQueue<T>>();
  /** When each owner was last served; owners never served come first, then the longest waiting. */
  readonly #servedAt = new Map<string, number>();
  readonly #owners = new IndexedHeap<OwnerQueue<T>>((a, b) => {
    const byServed = (this.#servedAt.get(a.owner) ?? -1) - (this.#servedAt.get(b.owner) ?? -1);
    return byServed !== 0 ? byServed < 0 : a.arrival < b.arrival;
  });
  /** Waiting items per process. */
  readonly #perProcess = new Map<string, number>();
  #tick = 0;
  #arrivals = 0;
  #pushed = 0;
  #unshifted = 0;
  #offered = 0;

  get size(): number {
    return this.#nodes.size;
  }

  /** Owners compared and items offered so far: the work done, which tests check stays logarithmic. */
  get steps(): number {
    return this.#owners.steps + this.#offered;
  }

  has(id: string): boolean {
    return this.#nodes.has(id);
  }

  /** Number of items an owner has waiting. */
  waiting(owner: string): number {
    return this.#byOwner.get(owner)?.size ?? 0;
  }

  /** The processes that items wait for, each once: kept as counts, so asking costs nothing per item. */
  processes(): IterableIterator<string> {
    return this.#perProcess.keys();
  }

  push(item: T): void {
    const line = this.#lineOf(item);
    const node: Node<T> = { item, seq: ++this.#pushed, line, prev: line.tail, next: undefined };
    if (line.tail) line.tail.next = node;
    else line.head = node;
    line.tail = node;
    this.#nodes.set(item.id, node);
  }

  /** Puts an item back at the head of its owner's queue (it was taken but could not be placed). */
  unshift(item: T): void {
    const line = this.#lineOf(item);
    const node: Node<T> = { item, seq: --this.#unshifted, line, prev: undefined, next: line.head };
    if (line.head) line.head.prev = node;
    else line.tail = node;
    line.head = node;
    this.#nodes.set(item.id, node);
  }

  remove(id: string): T | undefined {
    const node = this.#nodes.get(id);
    if (!node) return undefined;
    this.#unlink(node);
    return node.item;
  }

  /**
   * Offers waiting items in fair order: the owner served longest ago (or never) first, its oldest
   * item whose process has room; an owner served goes behind all others. Within an owner, an item
   * whose process has no room does not block the owner's later items. Ends when `offer` says
   * `stop` or every owner has been left for this pass.
   */
  drain(offer: (item: T) => Offer): void {
    const fullProcesses = new Set<string>();
    const leftThisPass: OwnerQueue<T>[] = [];
    try {
      for (let queue = this.#owners.pop(); queue; queue = this.#owners.pop()) {
        const outcome = this.#offerNext(queue, fullProcesses, offer);
        if (outcome === 'placed') this.#servedAt.set(queue.owner, ++this.#tick);
        if (outcome === 'placed' || outcome === 'stop') {
          if (queue.size > 0) this.#owners.push(queue);
          if (outcome === 'stop') return;
        } else {
          leftThisPass.push(queue);
        }
      }
    } finally {
      for (const queue of leftThisPass) this.#owners.push(queue);
    }
  }

  /** Offers the owner's oldest items whose process has room until one is taken or the owner is done for this pass. */
  #offerNext(queue: OwnerQueue<T>, fullProcesses: Set<string>, offer: (item: T) => Offer): Offer {
    for (;;) {
      let oldest: Node<T> | undefined;
      for (const line of queue.lines.values()) {
        if (!fullProcesses.has(line.processId) && (!oldest || line.head!.seq < oldest.seq)) oldest = line.head;
      }
      if (!oldest) return 'process-full';
      this.#offered += 1;
      const outcome = offer(oldest.item);
      if (outcome === 'placed') this.#unlink(oldest);
      if (outcome !== 'process-full') return outcome;
      fullProcesses.add(oldest.item.processId);
    }
  }

  #lineOf(item: T): Line<T> {
    let queue = this.#byOwner.get(item.owner);
    if (!queue) {
      queue = { owner: item.owner, arrival: ++this.#arrivals, lines: new Map(), size: 0, heapIndex: -1 };
      this.#byOwner.set(item.owner, queue);
      this.#owners.push(queue);
    }
    queue.size += 1;
    this.#perProcess.set(item.processId, (this.#perProcess.get(item.processId) ?? 0) + 1);
    let line = queue.lines.get(item.processId);
    if (!line) {
      line = { processId: item.processId, head: undefined, tail: undefined };
      queue.lines.set(item.processId, line);
    }
    return line;
  }

  #unlink(node: Node<T>): void {
    const { line } = node;
    if (node.prev) node.prev.next = node.next;
    else line.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else line.tail = node.prev;
    this.#nodes.delete(node.item.id);
    const queue = this.#byOwner.get(node.item.owner)!;
    queue.size -= 1;
    const left = this.#perProcess.get(line.processId)! - 1;
    if (left === 0) this.#perProcess.delete(line.processId);
    else this.#perProcess.set(line.processId, left);
    if (!line.head) queue.lines.delete(line.processId);
    if (queue.size === 0) {
      this.#owners.remove(queue);
      this.#byOwner.delete(queue.owner);
    }
  }
}

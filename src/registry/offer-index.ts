import type { ProcessSpec } from '../../protocol/index.js';

/** A process as offered by one or more agents of the pool that owns its id. */
export interface OfferedProcess {
  spec: ProcessSpec;
  /** The pool that owns the id: only its agents' offers count. */
  pool: string;
  /** Full JIDs of the agents offering this id with this description. */
  agents: string[];
  /** Agents of the owning pool offering the id with another description (the newest version wins). */
  conflicts: { jid: string; version: string }[];
  /** Agents of other pools offering the same id: refused, never given its jobs. */
  refused: { jid: string; pool: string; version: string }[];
}

/** One agent's offer of one id; `order` is the agent's place in the order agents came online. */
interface Offer {
  jid: string;
  pool: string;
  order: number;
  spec: ProcessSpec;
}

const byId = (a: string, b: string) => a.localeCompare(b);

/**
 * What is on offer by id, kept up to date one catalog at a time: a catalog or a departure costs
 * the work of its own ids, never a pass over the whole fleet. Rebuilding every offer on each
 * change took seconds of CPU and tens of MiB of garbage with 100,000 ids while a fleet announced
 * (docs/decisions.md, Fleets).
 */
export class OfferIndex {
  /**
   * Every agent's offers by id, in the order the agents came online. An id whose offers are all
   * withdrawn keeps an empty list until the next listing drops it from `#sorted`.
   */
  readonly #offers = new Map<string, Offer[]>();
  /** What each offered id resolves to, worked out when first asked; `null`: no agent of the owning pool offers it. */
  readonly #resolved = new Map<string, OfferedProcess | null>();
  /** The ids in the order the process list shows them, as of the last listing. */
  #sorted: string[] = [];
  /** Ids offered since the last listing, not in `#sorted` yet. */
  #added: string[] = [];
  /** Ids in `#sorted` or `#added` whose offers have all been withdrawn since the last listing. */
  #withdrawn = 0;
  /** The resolved offers in list order, while nothing changed. */
  #listing: readonly OfferedProcess[] | undefined;

  constructor(private readonly ownerOf: (processId: string) => string | undefined) {}

  /** The agent's offers of `specs`, replacing none: call `withdraw` with its previous catalog first. */
  add(agent: { jid: string; pool: string; order: number }, specs: readonly ProcessSpec[]): void {
    for (const spec of specs) {
      let offers = this.#offers.get(spec.id);
      if (!offers) {
        offers = [];
        this.#offers.set(spec.id, offers);
        this.#added.push(spec.id);
      } else if (offers.length === 0) this.#withdrawn--;
      const offer = { jid: agent.jid, pool: agent.pool, order: agent.order, spec };
      // Almost always at the end; an agent that sends a new catalog keeps its place.
      let at = offers.length;
      while (at > 0 && offers[at - 1]!.order > offer.order) at--;
      offers.splice(at, 0, offer);
      this.changed(spec.id);
    }
  }

  /** Takes back the agent's offers of `specs` (its catalog until now). */
  withdraw(jid: string, specs: readonly ProcessSpec[]): void {
    for (const { id } of specs) {
      const offers = this.#offers.get(id);
      if (!offers?.length) continue;
      const left = offers.filter((offer) => offer.jid !== jid);
      this.#offers.set(id, left);
      if (left.length === 0) this.#withdrawn++;
      this.changed(id);
    }
  }

  /** What `id` resolves to must be worked out again (its offers or its owner changed). */
  changed(id: string): void {
    this.#resolved.delete(id);
    this.#listing = undefined;
  }

  get(id: string): OfferedProcess | undefined {
    let resolved = this.#resolved.get(id);
    if (resolved === undefined) {
      const offers = this.#offers.get(id);
      const owner = this.ownerOf(id);
      // Kept only for ids on offer: asking for unknown ids must not fill memory.
      if (!offers?.length || owner === undefined) return undefined;
      resolved = offered(owner, offers) ?? null;
      this.#resolved.set(id, resolved);
    }
    return resolved ?? undefined;
  }

  /** Every process on offer, sorted by id. */
  list(): readonly OfferedProcess[] {
    if (this.#listing) return this.#listing;
    if (this.#added.length > 0 || this.#withdrawn > 0) this.#sort();
    this.#listing = this.#sorted.map((id) => this.get(id)).filter((p) => p !== undefined);
    return this.#listing;
  }

  /**
   * Merges the new ids into the sorted ones and drops those no longer offered: one pass over the
   * list and a binary search per new id, instead of a sort of 100,000 ids with the collation or a
   * splice per change.
   */
  #sort(): void {
    const stillOffered = (id: string) => {
      if (this.#offers.get(id)!.length > 0) return true;
      this.#offers.delete(id);
      return false;
    };
    const sorted = this.#sorted;
    const merged: string[] = [];
    let from = 0;
    for (const id of this.#added.sort(byId)) {
      const at = insertionPoint(sorted, id, from);
      for (; from < at; from++) if (stillOffered(sorted[from]!)) merged.push(sorted[from]!);
      if (stillOffered(id)) merged.push(id);
    }
    for (; from < sorted.length; from++) if (stillOffered(sorted[from]!)) merged.push(sorted[from]!);
    this.#sorted = merged;
    this.#added = [];
    this.#withdrawn = 0;
  }
}

/** Where `id` goes in the sorted `ids`, at `from` or after and after any the collation holds equal (binary search). */
function insertionPoint(ids: readonly string[], id: string, from: number): number {
  let low = from;
  let high = ids.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (byId(ids[middle]!, id) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The description clients see: what an agent's own settings (`maxParallel`, its file) leave out. */
function describedAs(spec: ProcessSpec): string {
  const { maxParallel: _parallel, file: _file, ...described } = spec;
  return JSON.stringify(described);
}

/** What the owning pool offers under one id; undefined while none of its agents offers it. */
function offered(pool: string, offers: Offer[]): OfferedProcess | undefined {
  const own = offers.filter((o) => o.pool === pool);
  if (own.length === 0) return undefined;
  const newest = own.reduce((best, o) => (compareVersions(o.spec.version, best.spec.version) > 0 ? o : best));
  // Compared as JSON text: each agent sends its own copy of a description.
  const newestText = own.length > 1 ? describedAs(newest.spec) : '';
  const same = own.filter((o) => o === newest || describedAs(o.spec) === newestText);
  const other = own.filter((o) => o !== newest && describedAs(o.spec) !== newestText);
  return {
    spec: newest.spec,
    pool,
    agents: same.map((o) => o.jid),
    conflicts: other.map((o) => ({ jid: o.jid, version: o.spec.version })),
    refused: offers.filter((o) => o.pool !== pool).map((o) => ({ jid: o.jid, pool: o.pool, version: o.spec.version })),
  };
}

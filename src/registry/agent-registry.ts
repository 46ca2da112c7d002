import { EventEmitter } from 'node:events';
import { type AgentLoad, type FileNote, type InvalidFile, type ProcessSpec } from '../../protocol/index.js';
import { bareJid } from '../../xmpp/xmpp-names.js';
import { OfferIndex, type OfferedProcess } from './offer-index.js';
import { LoadHistory, type LoadSample } from './load-history.js';
import { SharedParts } from './shared-parts.js';

export type { OfferedProcess } from './offer-index.js';

export interface AgentEntry {
  /** Full JID, `name@domain/resource`. */
  jid: string;
  /** The pool the agent's account was provisioned into (docs/security.md, who may offer what). */
  pool: string;
  load: AgentLoad;
  processes: ProcessSpec[];
  invalid: InvalidFile[];
  /** What the agent says about files it publishes (keys it ignores). */
  notes: FileNote[];
  /** Hash of the catalog held in `processes`; differs from `load.catalog` while a new one is on its way. */
  catalogHash: string | null;
  connectedSince: Date;
  lastSeen: Date;
  /** Load at each presence, oldest first: the last `LOAD_HISTORY_MS` at most `LOAD_HISTORY_SAMPLES` (load-history.ts); made when read. */
  loadHistory: LoadSample[];
}

/** A process id offered by an agent whose pool does not own it. */
export interface RefusedOffer {
  process: string;
  owner: string;
  jid: string;
  pool: string;
}

export interface RegistryOptions {
  /** Process id → owning pool, as kept from earlier runs. */
  claims?: Map<string, string>;
  /** Called when ids get an owner or change hands, to keep them across restarts; a catalog's new ids come in one call. */
  onClaim?: (processIds: string[], pool: string) => void;
  /** Accounts (bare JIDs) an admin drained, as kept from earlier runs. */
  drained?: Iterable<string>;
  /** Called when an admin drains or undrains an account, to keep it across restarts. */
  onDrained?: (account: string, drained: boolean) => void;
}

export interface RegistryEvents {
  changed: [];
  /** What these ids resolve to may have changed (a catalog, a departure, an admin's hand-over); not sent on presence. */
  offered: [processIds: string[]];
  /** An agent offered ids another pool owns (once per catalog). */
  refused: [offers: RefusedOffer[]];
  'agent-online': [jid: string];
  'agent-offline': [jid: string];
}

/** Which agents are online, with their load and processes; fed from presence and catalog messages. */
export class AgentRegistry extends EventEmitter<RegistryEvents> {
  readonly #agents = new Map<string, AgentEntry & { order: number; history: LoadHistory }>();
  /** Agents come online in this order; where descriptions tie, the first one's offer is kept. */
  #arrivals = 0;
  /** What is on offer, by id; changed only when a catalog arrives or an agent leaves, not on presence. */
  readonly #offers = new OfferIndex((id) => this.#claims.get(id));
  readonly #shared = new SharedParts();
  /**
   * Accounts an admin drained, by bare JID so that they stay drained when the agent reconnects;
   * kept in the store through `onDrained`, so that they stay drained when the orchestrator restarts.
   */
  readonly #drained: Set<string>;
  readonly #onDrained: (account: string, drained: boolean) => void;
  /** Process id → the pool that owns it: the first pool to offer it, unless an admin handed it on. */
  readonly #claims: Map<string, string>;
  readonly #onClaim: (processIds: string[], pool: string) => void;

  constructor(options: RegistryOptions = {}) {
    super();
    this.#claims = new Map(options.claims);
    this.#onClaim = options.onClaim ?? (() => undefined);
    this.#drained = new Set(options.drained);
    this.#onDrained = options.onDrained ?? (() => undefined);
  }

  /** `pool` defaults to the bare JID: an agent alone in its own pool. */
  updatePresence(jid: string, load: AgentLoad, pool = bareJid(jid), now = new Date()): void {
    const entry = this.#agents.get(jid);
    const sample = { at: now, running: load.running, slots: load.slots, load1: load.load1 };
    if (entry) {
      entry.load = load;
      entry.lastSeen = now;
      entry.history.record(sample);
    } else {
      const order = this.#arrivals++;
      const history = new LoadHistory();
      history.record(sample);
      const entry = { jid, pool, load, processes: [], invalid: [], notes: [], catalogHash: null, connectedSince: now, lastSeen: now, order, history };
      this.#agents.set(jid, Object.defineProperty(entry as typeof entry & AgentEntry, 'loadHistory', { get: () => history.samples(), enumerable: true }));
      this.emit('agent-online', jid);
    }
    this.emit('changed');
  }

  /**
   * Returns false when the agent is not online (a catalog without presence is ignored). Ids no
   * pool owns yet become its pool's; offers of ids another pool owns are refused.
   */
  setCatalog(jid: string, hash: string, received: ProcessSpec[], invalid: InvalidFile[], notes: FileNote[] = []): boolean {
    const entry = this.#agents.get(jid);
    if (!entry) return false;
    const processes = received.map((spec) => this.#shared.spec(spec));
    const unclaimed = processes.map(({ id }) => id).filter((id) => !this.#claims.has(id));
    if (unclaimed.length > 0) this.#claim(unclaimed, entry.pool);
    entry.catalogHash = hash;
    const before = entry.processes;
    this.#offers.withdraw(jid, before);
    this.#offers.add(entry, processes);
    entry.processes = processes;
    entry.invalid = invalid;
    entry.notes = notes;
    // Only this agent's offers: a catalog must not cost a pass over the whole fleet.
    const refused = this.#refusedOf(entry);
    if (refused.length > 0) this.emit('refused', refused);
    this.emit('offered', [...before, ...processes].map(({ id }) => id));
    this.emit('changed');
    return true;
  }

  /** Every offer of an agent online whose pool does not own the id. */
  refusedOffers(): RefusedOffer[] {
    return this.agents().flatMap((agent) => this.#refusedOf(agent));
  }

  #refusedOf(agent: AgentEntry): RefusedOffer[] {
    return agent.processes
      .filter(({ id }) => this.#claims.get(id) !== agent.pool)
      .map(({ id }) => ({ process: id, owner: this.#claims.get(id)!, jid: agent.jid, pool: agent.pool }));
  }

  /** The pool that owns a process id, if any has offered it. */
  owner(processId: string): string | undefined {
    return this.#claims.get(processId);
  }

  /** An admin hands a process id to another pool; its jobs go to that pool's agents from now on. */
  assign(processId: string, pool: string): void {
    if (this.#claims.get(processId) === pool) return;
    this.#claim([processId], pool);
    this.#offers.changed(processId);
    this.emit('offered', [processId]);
    this.emit('changed');
  }

  /** Claims another orchestrator stored (docs/decisions.md, Scale-out): taken as they are, not stored again. */
  takeStoredClaims(claims: Map<string, string>): void {
    const moved = [...claims].filter(([id, pool]) => this.#claims.get(id) !== pool);
    if (moved.length === 0) return;
    for (const [id, pool] of moved) {
      this.#claims.set(id, pool);
      this.#offers.changed(id);
    }
    this.emit('offered', moved.map(([id]) => id));
    this.emit('changed');
  }

  #claim(processIds: string[], pool: string): void {
    for (const id of processIds) this.#claims.set(id, pool);
    this.#onClaim(processIds, pool);
  }

  remove(jid: string): void {
    const entry = this.#agents.get(jid);
    if (!entry) return;
    this.#agents.delete(jid);
    this.#offers.withdraw(jid, entry.processes);
    this.emit('offered', entry.processes.map(({ id }) => id));
    this.emit('agent-offline', jid);
    this.emit('changed');
  }

  /** Forgets every agent, e.g. when the link to the XMPP server is lost and presence is unknown. */
  clear(): void {
    for (const jid of [...this.#agents.keys()]) this.remove(jid);
  }

  agent(jid: string): AgentEntry | undefined {
    return this.#agents.get(jid);
  }

  /** The online agents named by a full JID, or every connection of an account named by its bare JID. */
  agentsNamed(jid: string): AgentEntry[] {
    if (!jid.includes('/')) return this.agents().filter((agent) => bareJid(agent.jid) === jid);
    const agent = this.#agents.get(jid);
    return agent ? [agent] : [];
  }

  /** An admin stops (or resumes) giving new jobs to the agent's account; its running jobs go on. */
  setDrained(jid: string, drained: boolean): void {
    const account = bareJid(jid);
    if (drained === this.#drained.has(account)) return;
    this.#onDrained(account, drained);
    if (drained) this.#drained.add(account);
    else this.#drained.delete(account);
    this.emit('changed');
  }

  /** A drain or undrain another orchestrator stored: taken as it is, not stored again. */
  takeStoredDrain(account: string, drained: boolean): void {
    if (drained === this.#drained.has(account)) return;
    if (drained) this.#drained.add(account);
    else this.#drained.delete(account);
    this.emit('changed');
  }

  /** Whether an admin drained the agent's account (the agent's own draining is in its load). */
  isDrained(jid: string): boolean {
    return this.#drained.has(bareJid(jid));
  }

  /** Agents online, and how many of them hold the catalog their presence names: without sorting, for polling a big fleet. */
  counts(): { online: number; catalogsCurrent: number } {
    let catalogsCurrent = 0;
    for (const agent of this.#agents.values()) if (agent.catalogHash === agent.load.catalog) catalogsCurrent++;
    return { online: this.#agents.size, catalogsCurrent };
  }

  agents(): AgentEntry[] {
    return [...this.#agents.values()].sort((a, b) => a.jid.localeCompare(b.jid));
  }

  /** Full JIDs of the agents online, unsorted: sorting 10,000 JIDs stalls the event loop for tens of ms. */
  jids(): string[] {
    return [...this.#agents.keys()];
  }

  /** Every process on offer, by id: its owning pool's offers, where descriptions differ the newest version. */
  processes(): readonly OfferedProcess[] {
    return this.#offers.list();
  }

  process(id: string): OfferedProcess | undefined {
    return this.#offers.get(id);
  }
}

import { EventEmitter } from 'node:events';
import { bareJid, type AgentLoad, type InvalidFile, type ProcessSpec } from '../protocol/index.js';

export interface AgentEntry {
  /** Full JID, `name@domain/resource`. */
  jid: string;
  load: AgentLoad;
  processes: ProcessSpec[];
  invalid: InvalidFile[];
  /** Hash of the catalog held in `processes`; differs from `load.catalog` while a new one is on its way. */
  catalogHash: string | null;
  connectedSince: Date;
  lastSeen: Date;
}

/** A process as offered by one or more agents. */
export interface OfferedProcess {
  spec: ProcessSpec;
  /** Full JIDs of the agents offering this id with this description. */
  agents: string[];
  /** Agents offering the same id with another description (SPEC §6: newest version wins). */
  conflicts: { jid: string; version: string }[];
}

export interface RegistryEvents {
  changed: [];
  'agent-online': [jid: string];
  'agent-offline': [jid: string];
}

function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Which agents are online, with their load and processes; fed from presence and catalog messages. */
export class AgentRegistry extends EventEmitter<RegistryEvents> {
  readonly #agents = new Map<string, AgentEntry>();
  /** What is on offer, by id; rebuilt only when a catalog arrives or an agent leaves, not on presence. */
  #offered: Map<string, OfferedProcess> | undefined;
  /**
   * Accounts an admin drained, by bare JID so that they stay drained when the agent reconnects.
   * Kept in memory only: an orchestrator restart undrains every agent.
   */
  readonly #drained = new Set<string>();

  updatePresence(jid: string, load: AgentLoad, now = new Date()): void {
    const entry = this.#agents.get(jid);
    if (entry) {
      entry.load = load;
      entry.lastSeen = now;
    } else {
      this.#agents.set(jid, { jid, load, processes: [], invalid: [], catalogHash: null, connectedSince: now, lastSeen: now });
      this.emit('agent-online', jid);
    }
    this.emit('changed');
  }

  /** Returns false when the agent is not online (a catalog without presence is ignored). */
  setCatalog(jid: string, hash: string, processes: ProcessSpec[], invalid: InvalidFile[]): boolean {
    const entry = this.#agents.get(jid);
    if (!entry) return false;
    entry.catalogHash = hash;
    entry.processes = processes;
    this.#offered = undefined;
    entry.invalid = invalid;
    this.emit('changed');
    return true;
  }

  remove(jid: string): void {
    if (!this.#agents.delete(jid)) return;
    this.#offered = undefined;
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
    if (drained) this.#drained.add(account);
    else this.#drained.delete(account);
    this.emit('changed');
  }

  /** Whether an admin drained the agent's account (the agent's own draining is in its load). */
  isDrained(jid: string): boolean {
    return this.#drained.has(bareJid(jid));
  }

  agents(): AgentEntry[] {
    return [...this.#agents.values()].sort((a, b) => a.jid.localeCompare(b.jid));
  }

  /** Every process on offer, by id; where descriptions differ, the newest version wins. */
  processes(): OfferedProcess[] {
    return [...this.#offers().values()];
  }

  process(id: string): OfferedProcess | undefined {
    return this.#offers().get(id);
  }

  #offers(): Map<string, OfferedProcess> {
    if (this.#offered) return this.#offered;
    const byId = new Map<string, { jid: string; spec: ProcessSpec }[]>();
    for (const agent of this.#agents.values()) {
      for (const spec of agent.processes) {
        const offers = byId.get(spec.id) ?? [];
        offers.push({ jid: agent.jid, spec });
        byId.set(spec.id, offers);
      }
    }
    const sorted = [...byId.values()].map(offered).sort((a, b) => a.spec.id.localeCompare(b.spec.id));
    this.#offered = new Map(sorted.map((p) => [p.spec.id, p]));
    return this.#offered;
  }
}

function sameDescription(a: ProcessSpec, b: ProcessSpec): boolean {
  const { maxParallel: _a, file: _fa, ...restA } = a;
  const { maxParallel: _b, file: _fb, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}

function offered(offers: { jid: string; spec: ProcessSpec }[]): OfferedProcess {
  const newest = offers.reduce((best, o) => (compareVersions(o.spec.version, best.spec.version) > 0 ? o : best));
  const same = offers.filter((o) => sameDescription(o.spec, newest.spec));
  const other = offers.filter((o) => !sameDescription(o.spec, newest.spec));
  return {
    spec: newest.spec,
    agents: same.map((o) => o.jid),
    conflicts: other.map((o) => ({ jid: o.jid, version: o.spec.version })),
  };
}

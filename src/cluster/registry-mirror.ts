import type { Logger } from 'pino';
import type { AgentEntry, AgentRegistry } from '../registry/agent-registry.js';
import type { AgentRow } from '../store/postgres/postgres-cluster.js';
import type { ClusterBus } from './cluster-bus.js';

/** What changes often about an agent: written whenever it changes. */
type AgentState = Pick<AgentEntry, 'pool' | 'load' | 'catalogHash'> & { lastSeen: string; drained: boolean };
/** What changes seldom: written only when its hash changes. */
type AgentCatalog = Pick<AgentEntry, 'processes' | 'invalid' | 'notes'> & { hash: string };

export interface RegistryRows {
  /** Writes the agents that changed and, when given, the owners of the processes on offer (JSON). */
  write(agents: AgentRow[], claims: string | undefined): Promise<void>;
  /** The agents changed since a version, and the owners of the processes on offer. */
  read(since: number): Promise<{ agents: (AgentRow & { version: number })[]; claims: string | undefined }>;
}

/**
 * The dispatcher writes what changed in its registry to the store at most once per `batchMs`, and
 * tells the others on the bus (docs/scale-out.md §3). Each agent has a row; its catalog, the bulk
 * of it, is written only when its hash changes. Returns the function that stops.
 */
export function publishRegistry(registry: AgentRegistry, rows: RegistryRows, bus: ClusterBus, batchMs: number, logger: Logger): () => void {
  const written = new Map<string, { state: string; catalogHash: string | null }>();
  let writtenClaims: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let writing = Promise.resolve();
  const flush = () => {
    timer = undefined;
    const changed: AgentRow[] = [];
    const next = new Map<string, { state: string; catalogHash: string | null }>();
    const claims: Record<string, string> = {};
    for (const agent of registry.agents()) {
      for (const { id } of agent.processes) claims[id] = registry.owner(id)!;
      const state = JSON.stringify(stateOf(registry, agent));
      const before = written.get(agent.jid);
      next.set(agent.jid, { state, catalogHash: agent.catalogHash });
      if (before?.state === state && before.catalogHash === agent.catalogHash) continue;
      const catalogChanged = agent.catalogHash !== null && before?.catalogHash !== agent.catalogHash;
      changed.push({ jid: agent.jid, state, ...(catalogChanged && { catalog: JSON.stringify(catalogOf(agent)) }) });
    }
    for (const jid of written.keys()) if (!next.has(jid)) changed.push({ jid, state: null });
    const claimsText = JSON.stringify(claims);
    const newClaims = claimsText === writtenClaims ? undefined : claimsText;
    if (changed.length === 0 && newClaims === undefined) return;
    writing = writing
      .then(async () => {
        await rows.write(changed, newClaims);
        for (const row of changed) {
          if (row.state === null) written.delete(row.jid);
          else written.set(row.jid, next.get(row.jid)!);
        }
        if (newClaims !== undefined) writtenClaims = newClaims;
        bus.publish({ kind: 'registry' });
      })
      .catch((err: Error) => {
        logger.error({ err: err.message }, 'the registry could not be written for the other orchestrators; written again at its next change');
      });
  };
  const changed = () => (timer ??= setTimeout(flush, batchMs));
  registry.on('changed', changed);
  changed();
  return () => {
    clearTimeout(timer);
    registry.off('changed', changed);
  };
}

function stateOf(registry: AgentRegistry, agent: AgentEntry): AgentState {
  return { pool: agent.pool, load: agent.load, catalogHash: agent.catalogHash, lastSeen: agent.lastSeen.toISOString(), drained: registry.isDrained(agent.jid) };
}

function catalogOf(agent: AgentEntry): AgentCatalog {
  return { hash: agent.catalogHash!, processes: agent.processes, invalid: agent.invalid, notes: agent.notes };
}

/**
 * A follower keeps its registry a copy of the dispatcher's, reading what changed at each notice,
 * so that `/processes`, descriptions, validation and `/admin/agents` read the same on every
 * instance. Resolves once the first copy is made, with the function that stops.
 */
export async function mirrorRegistry(registry: AgentRegistry, rows: RegistryRows, bus: ClusterBus, logger: Logger): Promise<() => void> {
  let since = 0;
  /** Catalogs read but not yet applied: an agent's catalog is set once its presence is. */
  const catalogs = new Map<string, AgentCatalog>();
  let reading = Promise.resolve();
  const refresh = () => {
    reading = reading
      .then(async () => {
        const { agents, claims } = await rows.read(since);
        for (const [processId, pool] of Object.entries(JSON.parse(claims ?? '{}') as Record<string, string>)) registry.assign(processId, pool);
        for (const row of agents) {
          if (row.catalog !== undefined) catalogs.set(row.jid, JSON.parse(row.catalog) as AgentCatalog);
          apply(registry, row, catalogs);
          since = Math.max(since, row.version);
        }
      })
      .catch((err: Error) => logger.error({ err: err.message }, "the dispatcher's registry could not be read; read again at its next change"));
  };
  const stop = bus.on((message) => {
    if (message.kind === 'registry') refresh();
  });
  refresh();
  await reading;
  return stop;
}

function apply(registry: AgentRegistry, row: AgentRow, catalogs: Map<string, AgentCatalog>): void {
  if (row.state === null) {
    catalogs.delete(row.jid);
    return registry.remove(row.jid);
  }
  const state = JSON.parse(row.state) as AgentState;
  const lastSeen = new Date(state.lastSeen);
  if (registry.agent(row.jid)?.lastSeen.getTime() !== lastSeen.getTime()) registry.updatePresence(row.jid, state.load, state.pool, lastSeen);
  const catalog = catalogs.get(row.jid);
  if (catalog && state.catalogHash === catalog.hash && registry.agent(row.jid)?.catalogHash !== catalog.hash) {
    registry.setCatalog(row.jid, catalog.hash, catalog.processes, catalog.invalid, catalog.notes);
    catalogs.delete(row.jid);
  }
  registry.setDrained(row.jid, state.drained);
}

import type { Logger } from 'pino';
import type { AgentEntry, AgentRegistry } from '../registry/agent-registry.js';
import type { ClusterBus } from './cluster-bus.js';

/** One agent as the dispatcher's registry holds it, in the store for the other instances. */
type MirroredAgent = Pick<AgentEntry, 'jid' | 'pool' | 'load' | 'processes' | 'invalid' | 'notes' | 'catalogHash'> & { lastSeen: string; drained: boolean };

/** The registry the dispatcher writes: its agents, and the pool that owns each process they offer. */
interface RegistrySnapshot {
  agents: MirroredAgent[];
  claims: Record<string, string>;
}

export interface SnapshotStore {
  write(snapshot: string): Promise<void>;
  read(): Promise<string | undefined>;
}

/**
 * The dispatcher writes its registry to the store at most once per `batchMs`, and tells the
 * others on the bus (docs/scale-out.md §3). Returns the function that stops.
 */
export function publishRegistry(registry: AgentRegistry, store: SnapshotStore, bus: ClusterBus, batchMs: number, logger: Logger): () => void {
  let timer: NodeJS.Timeout | undefined;
  let writing = Promise.resolve();
  const flush = () => {
    timer = undefined;
    writing = writing
      .then(() => store.write(JSON.stringify(snapshotOf(registry))))
      .then(() => bus.publish({ kind: 'registry' }))
      .catch((err: Error) => logger.error({ err: err.message }, 'the registry could not be written for the other orchestrators; written again at its next change'));
  };
  const changed = () => (timer ??= setTimeout(flush, batchMs));
  registry.on('changed', changed);
  changed();
  return () => {
    clearTimeout(timer);
    registry.off('changed', changed);
  };
}

function snapshotOf(registry: AgentRegistry): RegistrySnapshot {
  const claims: Record<string, string> = {};
  const agents = registry.agents().map((agent) => {
    for (const { id } of agent.processes) claims[id] = registry.owner(id)!;
    const { jid, pool, load, processes, invalid, notes, catalogHash, lastSeen } = agent;
    return { jid, pool, load, processes, invalid, notes, catalogHash, lastSeen: lastSeen.toISOString(), drained: registry.isDrained(jid) };
  });
  return { agents, claims };
}

/**
 * A follower keeps its registry a copy of the dispatcher's, read from the store at each notice,
 * so that `/processes`, descriptions, validation and `/admin/agents` read the same on every
 * instance. Resolves once the first copy is made, with the function that stops.
 */
export async function mirrorRegistry(registry: AgentRegistry, store: SnapshotStore, bus: ClusterBus, logger: Logger): Promise<() => void> {
  let reading = Promise.resolve();
  const refresh = () => {
    reading = reading
      .then(async () => {
        const text = await store.read();
        if (text !== undefined) apply(registry, JSON.parse(text) as RegistrySnapshot);
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

function apply(registry: AgentRegistry, snapshot: RegistrySnapshot): void {
  for (const [processId, pool] of Object.entries(snapshot.claims)) registry.assign(processId, pool);
  const listed = new Set(snapshot.agents.map((agent) => agent.jid));
  for (const { jid } of registry.agents()) if (!listed.has(jid)) registry.remove(jid);
  for (const agent of snapshot.agents) {
    const lastSeen = new Date(agent.lastSeen);
    if (registry.agent(agent.jid)?.lastSeen.getTime() !== lastSeen.getTime()) registry.updatePresence(agent.jid, agent.load, agent.pool, lastSeen);
    if (agent.catalogHash !== null && registry.agent(agent.jid)?.catalogHash !== agent.catalogHash) {
      registry.setCatalog(agent.jid, agent.catalogHash, agent.processes, agent.invalid, agent.notes);
    }
    registry.setDrained(agent.jid, agent.drained);
  }
}

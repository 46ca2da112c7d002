import type { Logger } from 'pino';
import { type AgentLoad, type AgentMessage, type FileNote, type ProcessSpec, type InvalidFile } from '../../protocol/index.js';
import { bareJid } from '../../xmpp/xmpp-names.js';
import type { ComponentLink } from '../xmpp/component-link.js';
import type { AgentRegistry } from './agent-registry.js';
import { refuseUnsupportedPatterns } from './catalog-patterns.js';

type CatalogMessage = Extract<AgentMessage, { type: 'catalog' }>;

interface PartialCatalog {
  hash: string;
  parts: (CatalogMessage | undefined)[];
}

export interface RegistryFeedOptions {
  link: ComponentLink;
  registry: AgentRegistry;
  logger: Logger;
  /** The pool of an account allowed to act as an agent (the link lets no other account through). */
  poolOf: (bareJid: string) => string | undefined;
  /** Called for every agent seen, so a restarted orchestrator can ask it to announce again. */
  remember: (jid: string) => void;
  /** The first wait before a lost catalog is asked for again; later ones double (default 2 s). */
  catalogRetryMs?: number;
  /** Whether jobs are handed to the agent: one that goes away with some must announce in full when back. */
  hasJobs?: (jid: string) => boolean;
}

/** How long a ping that confirms a missing catalog may take: a server busy with a fleet's logins is slow. */
const CONFIRM_TIMEOUT_MS = 30_000;
const MAX_CATALOG_REQUESTS = 6;

/** Keeps the registry in step with agents' presence and catalog messages. */
export function feedRegistry({ link, registry, logger, poolOf, remember, catalogRetryMs = 2000, hasJobs = () => false }: RegistryFeedOptions): void {
  const partial = new Map<string, PartialCatalog>();
  /**
   * The last catalog of each agent whose session lives on. An agent taken offline for missed pings
   * (a server too busy to carry them in time) comes back with the same catalog hash: it is
   * registered complete at once, instead of costing a catalog request each.
   */
  const lastCatalog = new Map<string, { hash: string; processes: ProcessSpec[]; invalid: InvalidFile[] }>();
  // An agent lost with jobs must list its runs when back (docs/protocol.md §6.3): it is asked for a
  // full announce rather than registered from its kept catalog, so a run nobody wants is stopped.
  registry.on('agent-offline', (jid: string) => {
    if (hasJobs(jid)) lastCatalog.delete(jid);
  });
  /** Agents whose catalog is being confirmed, with the timer of the next attempt while one waits. */
  const confirming = new Map<string, NodeJS.Timeout | undefined>();
  const lacksCatalog = (jid: string) => {
    const entry = registry.agent(jid);
    return entry !== undefined && entry.catalogHash !== entry.load.catalog;
  };

  /**
   * The agent sends its catalog right after the presence that names it, and one agent's stanzas
   * reach us in order (docs/protocol.md §2.3): once it has answered a ping sent after that presence,
   * a catalog still missing was lost, not waiting in a busy server's buffers. Only then is it asked
   * for, again after a doubling wait with jitter while it stays missing, at most six times.
   */
  const confirmCatalog = async (jid: string, attempt: number): Promise<void> => {
    confirming.set(jid, undefined);
    const answered = await link.ping(jid, CONFIRM_TIMEOUT_MS);
    // Parts of a multi-part catalog still arriving are in flight, not missing.
    const inFlight = partial.get(jid)?.hash === registry.agent(jid)?.load.catalog;
    if (!answered || !lacksCatalog(jid) || attempt >= MAX_CATALOG_REQUESTS || !confirming.has(jid)) return void confirming.delete(jid);
    if (!inFlight) await link.send(jid, { v: 1, type: 'catalog-request' }).catch(() => undefined);
    const wait = catalogRetryMs * 2 ** attempt * (0.5 + Math.random());
    confirming.set(jid, setTimeout(() => void confirmCatalog(jid, attempt + (inFlight ? 0 : 1)), wait).unref());
  };
  const stopConfirming = (jid: string) => {
    clearTimeout(confirming.get(jid));
    confirming.delete(jid);
  };

  /** A sighting the store refuses (disk full) costs only the `catalog-request` after a restart: the agent is served all the same. */
  const rememberIfStored = (jid: string) => {
    try {
      remember(jid);
    } catch (err) {
      logger.warn({ agent: jid, err: (err as Error).message }, 'agent sighting could not be recorded');
    }
  };

  link.on('presence', (jid: string, load: AgentLoad) => {
    const returning = !registry.agent(jid);
    if (returning) rememberIfStored(jid);
    registry.updatePresence(jid, load, poolOf(bareJid(jid)));
    const kept = lastCatalog.get(jid);
    if (returning && kept?.hash === load.catalog) registry.setCatalog(jid, kept.hash, kept.processes, kept.invalid);
    // The catalog normally follows its presence within milliseconds: wait a moment before pinging,
    // so that a fleet logging in costs the server no confirming ping per agent.
    if (lacksCatalog(jid) && !confirming.has(jid)) confirming.set(jid, setTimeout(() => void confirmCatalog(jid, 0), catalogRetryMs / 2).unref());
  });

  registry.on('refused', (offers) => {
    const [{ jid, pool }] = offers as [(typeof offers)[number]];
    logger.warn({ jid, pool, processes: offers.map((o) => `${o.process} (owned by ${o.owner})`) }, 'offer of process ids another pool owns refused');
  });

  link.on('unavailable', (jid: string) => {
    partial.delete(jid);
    lastCatalog.delete(jid);
    stopConfirming(jid);
    registry.remove(jid);
  });

  link.on('message', (jid: string, message: AgentMessage) => {
    if (message.type !== 'catalog') return;
    const assembled = assemble(partial, jid, message);
    if (!assembled) return;
    const checked = refuseUnsupportedPatterns(assembled.processes, assembled.invalid);
    // Without a valid presence first (which was answered with an error), the catalog is dropped.
    if (!registry.setCatalog(jid, message.hash, checked.processes, checked.invalid, assembled.notes)) {
      logger.warn({ jid }, 'catalog from an agent without a valid presence; dropped');
      return;
    }
    // The registry's copy, whose parts are shared with other agents' (shared-parts.ts).
    lastCatalog.set(jid, { hash: message.hash, processes: registry.agent(jid)!.processes, invalid: checked.invalid });
    if (!lacksCatalog(jid)) stopConfirming(jid);
    for (const { file, reason } of checked.refused) logger.warn({ jid, file, reason }, 'process refused: an input pattern cannot be used');
    logger.info({ jid, processes: checked.processes.length, invalid: checked.invalid.length }, 'agent catalog');
  });
}

type AssembledCatalog = { processes: ProcessSpec[]; invalid: InvalidFile[]; notes: FileNote[] };

/** Collects the parts of one catalog (same hash); a new hash starts over. */
function assemble(partial: Map<string, PartialCatalog>, jid: string, message: CatalogMessage): AssembledCatalog | undefined {
  if (message.parts === 1) {
    partial.delete(jid);
    return { processes: message.processes, invalid: message.invalid, notes: message.notes ?? [] };
  }
  let entry = partial.get(jid);
  if (!entry || entry.hash !== message.hash || entry.parts.length !== message.parts) {
    entry = { hash: message.hash, parts: new Array<CatalogMessage | undefined>(message.parts).fill(undefined) };
    partial.set(jid, entry);
  }
  if (message.part > message.parts) return undefined;
  entry.parts[message.part - 1] = message;
  if (entry.parts.some((p) => p === undefined)) return undefined;
  partial.delete(jid);
  const parts = entry.parts as CatalogMessage[];
  return { processes: parts.flatMap((p) => p.processes), invalid: parts.flatMap((p) => p.invalid), notes: parts.flatMap((p) => p.notes ?? []) };
}

import type { Logger } from 'pino';
import { type AgentLoad, type AgentMessage, type ProcessSpec, type InvalidFile } from '../../protocol/index.js';
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
  catalogWaitMs?: number;
}

/** Keeps the registry in step with agents' presence and catalog messages. */
export function feedRegistry({ link, registry, logger, poolOf, remember, catalogWaitMs = 2000 }: RegistryFeedOptions): void {
  const partial = new Map<string, PartialCatalog>();

  const checks = new Map<string, NodeJS.Timeout>();

  /** A sighting the store refuses (disk full) costs only the `catalog-request` after a restart: the agent is served all the same. */
  const rememberIfStored = (jid: string) => {
    try {
      remember(jid);
    } catch (err) {
      logger.warn({ agent: jid, err: (err as Error).message }, 'agent sighting could not be recorded');
    }
  };

  link.on('presence', (jid: string, load: AgentLoad) => {
    if (!registry.agent(jid)) rememberIfStored(jid);
    registry.updatePresence(jid, load, poolOf(bareJid(jid)));
    // The catalog follows the presence that names it; if it has not come a little later, it was missed.
    clearTimeout(checks.get(jid));
    checks.set(
      jid,
      setTimeout(() => {
        checks.delete(jid);
        const entry = registry.agent(jid);
        if (entry && entry.catalogHash !== entry.load.catalog) link.send(jid, { v: 1, type: 'catalog-request' }).catch(() => undefined);
      }, catalogWaitMs).unref(),
    );
  });

  registry.on('refused', (offers) => {
    const [{ jid, pool }] = offers as [(typeof offers)[number]];
    logger.warn({ jid, pool, processes: offers.map((o) => `${o.process} (owned by ${o.owner})`) }, 'offer of process ids another pool owns refused');
  });

  link.on('unavailable', (jid: string) => {
    partial.delete(jid);
    clearTimeout(checks.get(jid));
    checks.delete(jid);
    registry.remove(jid);
  });

  link.on('message', (jid: string, message: AgentMessage) => {
    if (message.type !== 'catalog') return;
    const assembled = assemble(partial, jid, message);
    if (!assembled) return;
    const checked = refuseUnsupportedPatterns(assembled.processes, assembled.invalid);
    // Without a valid presence first (which was answered with an error), the catalog is dropped.
    if (!registry.setCatalog(jid, message.hash, checked.processes, checked.invalid)) {
      logger.warn({ jid }, 'catalog from an agent without a valid presence; dropped');
      return;
    }
    for (const { file, reason } of checked.refused) logger.warn({ jid, file, reason }, 'process refused: an input pattern cannot be used');
    logger.info({ jid, processes: checked.processes.length, invalid: checked.invalid.length }, 'agent catalog');
  });
}

/** Collects the parts of one catalog (same hash); a new hash starts over. */
function assemble(partial: Map<string, PartialCatalog>, jid: string, message: CatalogMessage): { processes: ProcessSpec[]; invalid: InvalidFile[] } | undefined {
  if (message.parts === 1) {
    partial.delete(jid);
    return { processes: message.processes, invalid: message.invalid };
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
  return { processes: parts.flatMap((p) => p.processes), invalid: parts.flatMap((p) => p.invalid) };
}

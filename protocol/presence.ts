/** Words an agent may list in its presence's `features` (docs/protocol.md §2.1); others are ignored. */
export const AGENT_FEATURES = ['acks', 'queue'] as const;
/**
 * `acks`: the agent takes acknowledgements in batches (docs/protocol.md §4.2.4).
 * `queue`: the agent keeps jobs beyond its slots waiting, up to one per slot (docs/protocol.md §2.1).
 */
export type AgentFeature = (typeof AGENT_FEATURES)[number];

/** The load an agent reports in the `<agent xmlns="urn:outpost:agent:1">` element of its presence. */
export interface AgentLoad {
  slots: number;
  running: number;
  load1: number;
  cores: number;
  memFree: number;
  /** Hash of the agent's current catalog; a change means a new `catalog` message follows. */
  catalog: string;
  draining: boolean;
  /** What the agent understands beyond the protocol's first messages; absent: nothing more. */
  features?: readonly AgentFeature[];
}

const NUMBER_ATTRS = { slots: 'slots', running: 'running', load1: 'load1', cores: 'cores', memFree: 'mem-free' } as const;

/** Attributes of the presence element, in wire form. */
export function loadToAttrs(load: AgentLoad): Record<string, string> {
  const attrs: Record<string, string> = { v: '1', catalog: load.catalog };
  for (const [key, attr] of Object.entries(NUMBER_ATTRS)) attrs[attr] = String(load[key as keyof typeof NUMBER_ATTRS]);
  if (load.draining) attrs['draining'] = 'true';
  if (load.features?.length) attrs['features'] = load.features.join(' ');
  return attrs;
}

/** Reads the presence element's attributes; returns a reason when they are not a valid load. */
export function attrsToLoad(attrs: Record<string, string | undefined>): AgentLoad | string {
  if (attrs['v'] !== '1') return `unsupported protocol version ${JSON.stringify(attrs['v'])}`;
  const catalog = attrs['catalog'];
  if (!catalog) return "missing 'catalog' attribute";
  const numbers: Partial<Record<keyof typeof NUMBER_ATTRS, number>> = {};
  for (const [key, attr] of Object.entries(NUMBER_ATTRS)) {
    const value = Number(attrs[attr]);
    if (attrs[attr] === undefined || !Number.isFinite(value) || value < 0) return `'${attr}' must be a non-negative number`;
    numbers[key as keyof typeof NUMBER_ATTRS] = value;
  }
  const { slots = 0, running = 0, load1 = 0, cores = 0, memFree = 0 } = numbers;
  if (!Number.isInteger(slots) || slots < 1) return "'slots' must be a positive integer";
  const features = knownFeatures(attrs['features']);
  return { slots, running, load1, cores, memFree, catalog, draining: attrs['draining'] === 'true', ...(features.length > 0 && { features }) };
}

/**
 * The known words of a space-separated list, as the constants of AGENT_FEATURES: the registry
 * keeps them, and a slice of the received text would keep the whole socket read alive with it.
 */
function knownFeatures(list: string | undefined): AgentFeature[] {
  if (!list) return [];
  const words = new Set(list.split(/[ \t\r\n]+/));
  return AGENT_FEATURES.filter((feature) => words.has(feature));
}

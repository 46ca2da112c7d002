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
}

const NUMBER_ATTRS = { slots: 'slots', running: 'running', load1: 'load1', cores: 'cores', memFree: 'mem-free' } as const;

/** Attributes of the presence element, in wire form. */
export function loadToAttrs(load: AgentLoad): Record<string, string> {
  const attrs: Record<string, string> = { v: '1', catalog: load.catalog };
  for (const [key, attr] of Object.entries(NUMBER_ATTRS)) attrs[attr] = String(load[key as keyof typeof NUMBER_ATTRS]);
  if (load.draining) attrs['draining'] = 'true';
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
  return { slots, running, load1, cores, memFree, catalog, draining: attrs['draining'] === 'true' };
}

/** What the scheduler knows of one agent offering a process. Pure data: no I/O here. */
export interface AgentCapacity {
  jid: string;
  slots: number;
  /** Jobs this orchestrator has dispatched to the agent and not yet seen finish. */
  running: number;
  /** Of those, the jobs of the process being placed. */
  runningOfProcess: number;
  /** The agent's `max_parallel` for the process (already capped by its slots). */
  maxParallel: number;
  load1: number;
  cores: number;
  draining: boolean;
}

export function hasRoom(agent: AgentCapacity): boolean {
  return !agent.draining && agent.running < agent.slots && agent.runningOfProcess < agent.maxParallel;
}

/**
 * docs/architecture.md, Placement: among agents that are not draining and have a free slot and a free `max_parallel`,
 * the least loaded by running/slots, then by load average per core; ties by JID for stable results.
 */
export function pickAgent(candidates: readonly AgentCapacity[]): string | undefined {
  let best: AgentCapacity | undefined;
  for (const agent of candidates) {
    if (!hasRoom(agent)) continue;
    if (!best || compareLoad(agent, best) < 0) best = agent;
  }
  return best?.jid;
}

function compareLoad(a: AgentCapacity, b: AgentCapacity): number {
  const byShare = a.running / a.slots - b.running / b.slots;
  if (byShare !== 0) return byShare;
  const byLoad = a.load1 / Math.max(a.cores, 1) - b.load1 / Math.max(b.cores, 1);
  if (byLoad !== 0) return byLoad;
  return a.jid.localeCompare(b.jid);
}

import type { Logger } from 'pino';
import type { AgentRegistry } from './agent-registry.js';
import type { ComponentLink } from '../xmpp/component-link.js';

export interface LivenessOptions {
  link: ComponentLink;
  registry: AgentRegistry;
  intervalMs: number;
  /** Consecutive unanswered pings after which an agent counts as gone. */
  misses?: number;
  logger: Logger;
}

/** Rounds an interval's pings are spread over. */
const ROUNDS = 20;

/**
 * XEP-0199 pings of every online agent. A frozen agent, or one whose server session lingers
 * (stream management hibernation), never sends `unavailable`; missed pings tell instead.
 */
export function watchAgentLiveness({ link, registry, intervalMs, misses = 2, logger }: LivenessOptions): () => void {
  const missed = new Map<string, number>();
  // Agents taken offline for silence but never reported gone: if one answers again, it is asked to announce.
  const silent = new Set<string>();
  const forget = (jid: string) => silent.delete(jid);
  const gone = (jid: string) => missed.delete(jid);
  registry.on('agent-offline', gone);
  link.on('unavailable', forget);
  link.on('presence', forget);
  const timeout = Math.min(intervalMs, 10_000);

  const check = async (jid: string) => {
    // An agent whose presence arrived within the interval is alive: the reference agent sends one
    // after each of its own pings (docs/protocol.md §2.2), so a healthy fleet costs no pings at all.
    const heard = registry.agent(jid)?.lastSeen.getTime() ?? 0;
    if (!silent.has(jid) && Date.now() - heard < intervalMs) return void missed.delete(jid);
    const answered = await link.ping(jid, timeout);
    if (silent.has(jid)) {
      if (answered && silent.delete(jid)) await link.send(jid, { v: 1, type: 'catalog-request' }).catch(() => undefined);
      return;
    }
    if (answered) return void missed.delete(jid);
    const count = (missed.get(jid) ?? 0) + 1;
    missed.set(jid, count);
    if (count >= misses && registry.agent(jid)) {
      logger.warn({ jid, missed: count }, 'agent stopped answering pings; taken offline');
      registry.remove(jid);
      silent.add(jid);
    }
  };

  // Each agent is pinged once an interval, but the pings are spread over it in small rounds, so
  // that a fleet's answers never arrive as one burst that delays the jobs falling into it.
  const roundMs = Math.max(50, Math.floor(intervalMs / ROUNDS));
  let round = 0;
  let due: string[] = [];
  let share = 0;
  const timer = setInterval(() => {
    if (!link.online) return;
    if (round++ % ROUNDS === 0) {
      due = [...registry.jids(), ...silent];
      share = Math.ceil(due.length / ROUNDS);
    }
    for (const jid of due.splice(0, share)) void check(jid);
  }, roundMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    registry.off('agent-offline', gone);
    link.off('unavailable', forget);
    link.off('presence', forget);
  };
}

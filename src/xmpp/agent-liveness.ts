import type { Logger } from 'pino';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { ComponentLink } from './component-link.js';

export interface LivenessOptions {
  link: ComponentLink;
  registry: AgentRegistry;
  intervalMs: number;
  /** Consecutive unanswered pings after which an agent counts as gone. */
  misses?: number;
  logger: Logger;
}

/**
 * XEP-0199 pings of every online agent. A frozen agent, or one whose server session lingers
 * (stream management hibernation), never sends `unavailable`; missed pings tell instead.
 */
export function watchAgentLiveness({ link, registry, intervalMs, misses = 2, logger }: LivenessOptions): () => void {
  const missed = new Map<string, number>();
  registry.on('agent-offline', (jid) => missed.delete(jid));
  const timer = setInterval(() => {
    if (!link.online) return;
    for (const agent of registry.agents()) {
      void link.ping(agent.jid, Math.min(intervalMs, 10_000)).then((answered) => {
        if (answered) return void missed.delete(agent.jid);
        const count = (missed.get(agent.jid) ?? 0) + 1;
        missed.set(agent.jid, count);
        if (count >= misses && registry.agent(agent.jid)) {
          logger.warn({ jid: agent.jid, missed: count }, 'agent stopped answering pings; taken offline');
          registry.remove(agent.jid);
        }
      });
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

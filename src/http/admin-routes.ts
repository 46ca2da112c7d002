import type { Router } from '@koa/router';
import { OutpostError } from '../errors.js';
import type { AgentEntry, AgentRegistry } from '../registry/agent-registry.js';
import { selfLink } from './links.js';

function agentView(agent: AgentEntry) {
  const { catalog, ...load } = agent.load;
  return {
    jid: agent.jid,
    connectedSince: agent.connectedSince.toISOString(),
    lastSeen: agent.lastSeen.toISOString(),
    load,
    catalog: { hash: catalog, received: agent.catalogHash === catalog },
    processes: agent.processes.map(({ id, title, version, maxParallel, file }) => ({ id, title, version, maxParallel, file })),
    invalid: agent.invalid,
  };
}

/** The admin view of agents: who is online, their load, what they offer and which files they could not publish. */
export function adminRoutes(router: Router, registry: AgentRegistry): void {
  router.get('/admin/agents', (ctx) => {
    const conflicts = registry
      .processes()
      .filter((p) => p.conflicts.length > 0)
      .map((p) => ({ process: p.spec.id, version: p.spec.version, offeredBy: p.agents, differing: p.conflicts }));
    ctx.body = { agents: registry.agents().map(agentView), conflicts, links: [selfLink(ctx, 'agents')] };
  });

  router.get('/admin/agents/:jid', (ctx) => {
    const agent = registry.agent(ctx.params['jid'] ?? '');
    if (!agent) throw new OutpostError('not-found', 404, `agent '${ctx.params['jid']}' is not online`);
    ctx.body = { ...agentView(agent), links: [selfLink(ctx, 'agent')] };
  });
}

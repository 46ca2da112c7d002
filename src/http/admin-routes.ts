import type { Router } from '@koa/router';
import { OutpostError } from '../errors.js';
import type { JobService } from '../jobs/job-service.js';
import type { AgentEntry, AgentRegistry } from '../registry/agent-registry.js';
import { requestAdmin } from './job-access.js';
import { selfLink } from './links.js';
import { statusInfo } from './status-info.js';

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

/**
 * The admin view of agents (who is online, their load, what they offer and which files they could
 * not publish) and the kill of any job.
 */
export function adminRoutes(router: Router, registry: AgentRegistry, jobService: JobService): void {
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

  // SPEC §5: stops the run and keeps the record as dismissed, with who killed it.
  router.post('/admin/jobs/:jobId/kill', async (ctx) => {
    const job = await jobService.kill(ctx.params['jobId']!, requestAdmin(ctx));
    ctx.body = { job: statusInfo(ctx, job), dismissedBy: job.dismissedBy };
  });
}

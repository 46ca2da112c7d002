import type { Router } from '@koa/router';
import { OutpostError } from '../errors.js';
import type { JobService } from '../jobs/job-service.js';
import type { AgentEntry, AgentRegistry } from '../registry/agent-registry.js';
import { auditAction, type AuditLog } from './audit-trail.js';
import { requestAdmin } from './job-access.js';
import { link, selfLink } from './links.js';
import { statusInfo } from './status-info.js';

export interface AdminRouteDeps {
  registry: AgentRegistry;
  /** How an admin's changes of the registry are carried out (default: on `registry` itself). */
  registryChanges?: RegistryChanges;
  jobs: JobService;
  audit: AuditLog;
}

/** Draining and handing process ids on: done here, or by the dispatcher of a cluster (docs/scale-out.md §3). */
export interface RegistryChanges {
  setDrained(jid: string, drained: boolean): Promise<void>;
  assign(processId: string, pool: string): Promise<void>;
}

/** Changes made on the registry itself, where this instance dispatches. */
export const changesOn = (registry: AgentRegistry): RegistryChanges => ({
  setDrained: async (jid, drained) => registry.setDrained(jid, drained),
  assign: async (processId, pool) => registry.assign(processId, pool),
});

const agentPath = (jid: string) => `/admin/agents/${encodeURIComponent(jid)}`;

/** How agents are shown; made per request, since it counts the jobs each agent holds. */
async function agentViews({ registry, jobs }: AdminRouteDeps) {
  const assigned = await jobs.assignedPerAgent();
  return (agent: AgentEntry) => {
    // Which messages the agent takes is the link's business, not its load.
    const { catalog, features: _features, ...load } = agent.load;
    return {
      jid: agent.jid,
      pool: agent.pool,
      connectedSince: agent.connectedSince.toISOString(),
      lastSeen: agent.lastSeen.toISOString(),
      load,
      loadHistory: agent.loadHistory.map(({ at, ...sample }) => ({ at: at.toISOString(), ...sample })),
      // Presence is not sent per job, so `load.running` is the agent's count at its last presence.
      assigned: assigned.get(agent.jid) ?? 0,
      drained: registry.isDrained(agent.jid),
      catalog: { hash: catalog, received: agent.catalogHash === catalog },
      processes: agent.processes.map(({ id, title, version, maxParallel, file }) => ({ id, title, version, maxParallel, file })),
      invalid: agent.invalid,
      notes: agent.notes,
    };
  };
}

/** The agent named by a full JID, or by a bare JID the first of its account's connections. */
function onlineAgent(registry: AgentRegistry, jid: string): AgentEntry {
  const [agent] = registry.agentsNamed(jid);
  if (!agent) throw new OutpostError('not-found', 404, `agent '${jid}' is not online`);
  return agent;
}

/**
 * The admin view of agents (who is online, their load, what they offer and which files they could
 * not publish), draining them, the processes on offer, and the kill of any job.
 */
export function adminRoutes(router: Router, deps: AdminRouteDeps): void {
  const { registry } = deps;

  router.get('/admin/agents', async (ctx) => {
    const conflicts = registry
      .processes()
      .filter((p) => p.conflicts.length > 0)
      .map((p) => ({ process: p.spec.id, version: p.spec.version, offeredBy: p.agents, differing: p.conflicts }));
    // Offers of ids another pool owns are refused: never placed, shown here (docs/security.md).
    const refused = registry.refusedOffers();
    ctx.body = { agents: registry.agents().map(await agentViews(deps)), conflicts, refused, links: [selfLink(ctx, 'agents')] };
  });

  router.get('/admin/agents/:jid', async (ctx) => {
    ctx.body = { ...(await agentViews(deps))(onlineAgent(registry, ctx.params['jid']!)), links: [selfLink(ctx, 'agent')] };
  });

  // Drained by bare JID: every connection of the account, also after it reconnects (docs/decisions.md, Admin).
  for (const [action, drained] of [['drain', true], ['undrain', false]] as const) {
    router.post(`/admin/agents/:jid/${action}`, async (ctx) => {
      const agent = onlineAgent(registry, ctx.params['jid']!);
      await (deps.registryChanges ?? changesOn(registry)).setDrained(agent.jid, drained);
      await auditAction(ctx, deps.audit, `agent.${action}`, agent.jid);
      ctx.body = { ...(await agentViews(deps))(agent), links: [link(ctx, agentPath(agent.jid), 'self', 'agent')] };
    });
  }

  router.get('/admin/processes', (ctx) => {
    const processes = registry.processes().map(({ spec, pool, agents, conflicts, refused }) => ({
      id: spec.id,
      title: spec.title,
      version: spec.version,
      pool,
      agents,
      conflicts,
      refused,
    }));
    ctx.body = { processes, links: [selfLink(ctx, 'processes on offer')] };
  });

  // docs/decisions.md, Kill versus dismiss: stops the run and keeps the record as dismissed, with who killed it.
  router.post('/admin/jobs/:jobId/kill', async (ctx) => {
    const job = await deps.jobs.kill(ctx.params['jobId']!, requestAdmin(ctx));
    await auditAction(ctx, deps.audit, 'job.kill', job.id, { process: job.processId, owner: job.owner });
    ctx.body = { job: statusInfo(ctx, job), dismissedBy: job.dismissedBy };
  });
}

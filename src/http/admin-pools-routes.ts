import type { Router } from '@koa/router';
import type { Middleware } from 'koa';
import { OutpostError } from '../errors.js';
import { PROCESS_ID_PATTERN } from '../../protocol/index.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { poolNameProblem, type AgentAccountsApi } from '../store/agent-accounts.js';
import { checkBody } from './admin-bodies.js';
import { auditAction, type AuditLog } from './audit-trail.js';
import { changesOn, type RegistryChanges } from './admin-routes.js';
import { selfLink } from './links.js';

export interface AdminPoolsDeps {
  registry: AgentRegistry;
  registryChanges?: RegistryChanges;
  agentAccounts: Pick<AgentAccountsApi, 'list' | 'revoke'>;
  jsonBody: Middleware;
  removeXmppAccount?: (jid: string) => Promise<void>;
  audit: AuditLog;
}

export const POOL_BODY = {
  type: 'object',
  properties: { pool: { type: 'string', minLength: 1, maxLength: 100 } },
  required: ['pool'],
  additionalProperties: false,
} as const;

const processId = new RegExp(PROCESS_ID_PATTERN);
const BARE_JID = /^[^@/\s]{1,200}@[^@/\s]{1,200}$/;

/**
 * Who may offer what (docs/security.md): the accounts provisioned as agents with their pools, and
 * handing a process id to another pool.
 */
export function adminPoolsRoutes(router: Router, { registry, registryChanges = changesOn(registry), agentAccounts, jsonBody, audit, removeXmppAccount }: AdminPoolsDeps): void {
  router.get('/admin/agent-accounts', (ctx) => {
    ctx.body = { accounts: agentAccounts.list(), links: [selfLink(ctx, 'agent accounts')] };
  });

  // Revoking is immediate: the record first (its stanzas are refused from now on), then the XMPP
  // account where Outpost runs the server (which closes its sessions), then its jobs are handled
  // as those of a lost agent.
  router.delete('/admin/agent-accounts/:jid', async (ctx) => {
    const jid = ctx.params['jid']!;
    if (!BARE_JID.test(jid)) throw new OutpostError('bad-request', 400, `'${jid.slice(0, 200)}' is not a bare JID (NAME@DOMAIN)`);
    if (!(await agentAccounts.revoke(jid))) throw new OutpostError('not-found', 404, `no active agent account '${jid}'`);
    await auditAction(ctx, audit, 'agent.remove', jid);
    await removeXmppAccount?.(jid);
    for (const agent of registry.agentsNamed(jid)) registry.remove(agent.jid);
    ctx.body = { jid, revoked: true, xmppAccountRemoved: removeXmppAccount !== undefined, links: [selfLink(ctx, 'revoked agent account')] };
  });

  router.put('/admin/processes/:processId/pool', jsonBody, async (ctx) => {
    const id = ctx.params['processId']!;
    if (id.length > 200 || !processId.test(id)) throw new OutpostError('bad-request', 400, `'${id.slice(0, 200)}' is not a process id`);
    const { pool } = checkBody<{ pool: string }>(POOL_BODY, ctx.request.body);
    const problem = poolNameProblem(pool);
    if (problem) throw new OutpostError('bad-request', 400, problem);
    await registryChanges.assign(id, pool);
    await auditAction(ctx, audit, 'process.pool', id, { pool });
    ctx.body = { id, pool, links: [selfLink(ctx, 'process pool')] };
  });
}

import type { Router } from '@koa/router';
import type { Middleware } from 'koa';
import { OutpostError } from '../errors.js';
import { PROCESS_ID_PATTERN } from '../../protocol/index.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { poolNameProblem, type AgentAccount } from '../store/agent-accounts.js';
import { checkBody } from './admin-bodies.js';
import { auditAction, type AuditLog } from './audit-trail.js';
import { selfLink } from './links.js';

export interface AdminPoolsDeps {
  registry: AgentRegistry;
  agentAccounts: { list(): AgentAccount[] };
  jsonBody: Middleware;
  audit: AuditLog;
}

export const POOL_BODY = {
  type: 'object',
  properties: { pool: { type: 'string', minLength: 1, maxLength: 100 } },
  required: ['pool'],
  additionalProperties: false,
} as const;

const processId = new RegExp(PROCESS_ID_PATTERN);

/**
 * Who may offer what (docs/security.md): the accounts provisioned as agents with their pools, and
 * handing a process id to another pool.
 */
export function adminPoolsRoutes(router: Router, { registry, agentAccounts, jsonBody, audit }: AdminPoolsDeps): void {
  router.get('/admin/agent-accounts', (ctx) => {
    ctx.body = { accounts: agentAccounts.list(), links: [selfLink(ctx, 'agent accounts')] };
  });

  router.put('/admin/processes/:processId/pool', jsonBody, (ctx) => {
    const id = ctx.params['processId']!;
    if (id.length > 200 || !processId.test(id)) throw new OutpostError('bad-request', 400, `'${id.slice(0, 200)}' is not a process id`);
    const { pool } = checkBody<{ pool: string }>(POOL_BODY, ctx.request.body);
    const problem = poolNameProblem(pool);
    if (problem) throw new OutpostError('bad-request', 400, problem);
    registry.assign(id, pool);
    auditAction(ctx, audit, 'process.pool', id, { pool });
    ctx.body = { id, pool, links: [selfLink(ctx, 'process pool')] };
  });
}

import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { AUDIT_ACTIONS, type AuditStoreApi } from '../store/audit-store.js';
import { rfc3339Instant } from './job-list-query.js';
import { pageLinks, parsePaging } from './paging.js';
import { invalidParameter, listParam, singleParam } from './query-params.js';

function instantParam(ctx: Context, name: 'since' | 'until'): string | undefined {
  const raw = singleParam(ctx, name);
  if (raw === undefined) return undefined;
  const at = rfc3339Instant(raw);
  if (at === undefined) throw invalidParameter(name, `must be an RFC 3339 date-time such as 2024-05-01T12:00:00Z; got '${raw}'`);
  return at;
}

function actionsParam(ctx: Context): string[] | undefined {
  const actions = listParam(ctx, 'action');
  const unknown = actions?.find((action) => !(AUDIT_ACTIONS as readonly string[]).includes(action));
  if (unknown !== undefined) throw invalidParameter('action', `must be one of ${AUDIT_ACTIONS.join(', ')}; got '${unknown}'`);
  return actions;
}

/**
 * `GET /admin/audit` (docs/decisions.md, Retention and audit): who did what to what, when and
 * from where, newest first, filtered by action, actor and time, paged like the other admin lists.
 */
export function adminAuditRoutes(router: Router, deps: { audit: Pick<AuditStoreApi, 'list'> }): void {
  router.get('/admin/audit', async (ctx) => {
    const actor = singleParam(ctx, 'actor');
    if (actor === '') throw invalidParameter('actor', 'must not be empty');
    const filter = { actions: actionsParam(ctx), actor, since: instantParam(ctx, 'since'), until: instantParam(ctx, 'until'), ...parsePaging(ctx) };
    if (filter.since && filter.until && filter.since > filter.until) throw invalidParameter('since', `(${filter.since}) must not be after until (${filter.until})`);
    const page = await deps.audit.list(filter);
    ctx.body = { entries: page.entries, links: pageLinks(ctx, filter, page.more, 'audit log') };
  });
}

import type { Router } from '@koa/router';
import type { Middleware } from 'koa';
import { OutpostError } from '../errors.js';
import type { Limits } from '../jobs/owner-limits.js';
import { ROLES, userNameProblem, type LimitOverrides, type Role, type UserRecord, type UserStoreApi } from '../store/user-store.js';
import { checkBody } from './admin-bodies.js';
import { auditAction, type AuditLog } from './audit-trail.js';
import { absoluteUrl, selfLink } from './links.js';

export interface AdminUsersDeps {
  users: UserStoreApi;
  jsonBody: Middleware;
  /** The limits of users without overrides. */
  defaultLimits: Limits;
  /** Called after a user's limits changed: a raised running limit lets waiting jobs start. */
  limitsChanged: () => void;
  audit: AuditLog;
}

export const NEW_USER = {
  type: 'object',
  properties: { name: { type: 'string' }, role: { enum: ROLES } },
  required: ['name'],
  additionalProperties: false,
} as const;

export const NEW_TOKEN = {
  type: 'object',
  properties: { label: { type: 'string', maxLength: 200 } },
  additionalProperties: false,
} as const;

export const LIMITS = {
  type: 'object',
  properties: {
    maxRunning: { type: ['integer', 'null'], minimum: 1 },
    maxWaiting: { type: ['integer', 'null'], minimum: 0 },
  },
  required: ['maxRunning', 'maxWaiting'],
  additionalProperties: false,
} as const;

const userPath = (name: string) => `/admin/users/${encodeURIComponent(name)}`;

function existingUser(users: UserStoreApi, name: string): UserRecord {
  const user = users.get(name);
  if (!user) throw new OutpostError('not-found', 404, `user '${name}' does not exist`);
  return user;
}

function limitsView(user: UserRecord, defaults: Limits) {
  const { maxRunning, maxWaiting } = user.limits;
  return { maxRunning, maxWaiting, effective: { maxRunning: maxRunning ?? defaults.maxRunning, maxWaiting: maxWaiting ?? defaults.maxWaiting } };
}

/**
 * Users, their tokens and their limits (docs/architecture.md, HTTP API). A token is shown once, in the answer
 * that creates it; listings show ids and labels only.
 */
export function adminUsersRoutes(router: Router, deps: AdminUsersDeps): void {
  const { users } = deps;

  router.get('/admin/users', (ctx) => {
    ctx.body = { users: users.list(), links: [selfLink(ctx, 'users')] };
  });

  router.post('/admin/users', deps.jsonBody, async (ctx) => {
    const body = checkBody<{ name: string; role?: Role }>(NEW_USER, ctx.request.body);
    const problem = userNameProblem(body.name);
    if (problem) throw new OutpostError('bad-request', 400, problem);
    const user = await users.create(body.name, body.role ?? 'user');
    if (!user) throw new OutpostError('conflict', 409, `user '${body.name}' already exists`);
    await auditAction(ctx, deps.audit, 'user.create', user.name, { role: user.role });
    ctx.status = 201;
    ctx.set('Location', absoluteUrl(ctx, userPath(user.name)));
    ctx.body = user;
  });

  router.get('/admin/users/:name', (ctx) => {
    ctx.body = existingUser(users, ctx.params['name']!);
  });

  router.post('/admin/users/:name/tokens', deps.jsonBody, async (ctx) => {
    const user = existingUser(users, ctx.params['name']!);
    const body = checkBody<{ label?: string }>(NEW_TOKEN, ctx.request.body);
    ctx.status = 201;
    // The only time the token is ever shown; no cache may keep it.
    ctx.set('Cache-Control', 'no-store');
    const issued = await users.issueToken(user.name, body.label ?? null);
    await auditAction(ctx, deps.audit, 'token.create', issued.id, { user: user.name, label: issued.label });
    ctx.body = issued;
  });

  router.get('/admin/users/:name/tokens', (ctx) => {
    ctx.body = { tokens: users.tokens(existingUser(users, ctx.params['name']!).name) };
  });

  router.delete('/admin/tokens/:id', async (ctx) => {
    const token = await users.revokeToken(ctx.params['id']!);
    if (!token) throw new OutpostError('not-found', 404, `token '${ctx.params['id']}' does not exist`);
    await auditAction(ctx, deps.audit, 'token.revoke', token.id, { user: token.user });
    ctx.body = token;
  });

  router.get('/admin/users/:name/limits', (ctx) => {
    ctx.body = limitsView(existingUser(users, ctx.params['name']!), deps.defaultLimits);
  });

  router.put('/admin/users/:name/limits', deps.jsonBody, async (ctx) => {
    const name = existingUser(users, ctx.params['name']!).name;
    const limits = checkBody<LimitOverrides>(LIMITS, ctx.request.body);
    const user = (await users.setLimits(name, limits))!;
    await auditAction(ctx, deps.audit, 'limits.set', name, { ...limits });
    deps.limitsChanged();
    ctx.body = limitsView(user, deps.defaultLimits);
  });
}

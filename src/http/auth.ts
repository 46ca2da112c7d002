import type { Context, Middleware } from 'koa';
import { OutpostError } from '../errors.js';
import type { Role, UserStoreApi } from '../store/user-store.js';
import { AGENT_PACKAGE_PATH } from './agent-package-routes.js';
import { ASSETS_PATH } from './html/render.js';

/** The caller of a request with a valid token; requests without one have none. */
export interface RequestUser {
  name: string;
  role: Role;
  /** The public id of the token the request came with. */
  tokenId: string;
}

/** Which requests may be made without a token (docs/decisions.md, Users and access). */
export interface AccessPolicy {
  /** The landing page, conformance, the API definition and documentation, and processes. */
  anonymousRead: boolean;
  /** Executing processes and the jobs API; such jobs are owned by `anonymous`. */
  anonymousExecute: boolean;
  /** `/metrics` without a token (default: no, it needs an admin token, as it tells about every user's jobs). */
  metricsOpen?: boolean;
}

export const DEFAULT_ACCESS: AccessPolicy = { anonymousRead: true, anonymousExecute: false };

/**
 * - `open`: probes; uploads and inline file inputs, which carry a per-job token of their own; the admin web
 *   page, which holds no data and asks the admin API with a token the admin types in; the agent
 *   package, which holds no secrets and is fetched by machines that have no token; the styles
 *   and scripts of the HTML pages, which hold no data either.
 * - `admin`: an admin token, always; `/metrics` too unless the policy opens it.
 * - `execute`: executing and `/jobs*`; a token unless anonymous execution is on.
 * - `read`: everything else (the landing page, `/conformance`, `/api*`, `/processes*`, unknown paths).
 */
export type RouteClass = 'open' | 'read' | 'execute' | 'admin';

const OPEN = new Set(['/healthz', '/readyz', AGENT_PACKAGE_PATH]);

/** The router matches paths case-insensitively and with a trailing slash, so the classes do as well. */
const normalPath = (path: string) => path.toLowerCase().replace(/\/+$/, '') || '/';

/** Whether a path is `/metrics`, which `--metrics-open true` moves from `admin` to `open`. */
export const isMetricsPath = (path: string): boolean => normalPath(path) === '/metrics';

export function routeClass(path: string): RouteClass {
  const p = normalPath(path);
  const under = (prefix: string) => p === prefix || p.startsWith(`${prefix}/`);
  if (OPEN.has(p) || under('/uploads') || under('/inputs') || under('/admin/ui') || under(ASSETS_PATH)) return 'open';
  if (under('/admin') || p === '/metrics') return 'admin';
  if (under('/jobs') || /^\/processes\/[^/]+\/execution$/.test(p)) return 'execute';
  return 'read';
}

const REALM = 'Bearer realm="outpost"';
export const REVOKED_TOKEN = 'token has been revoked';
const SEND_TOKEN = "send the header 'Authorization: Bearer <token>'";

function unauthorized(detail: string, invalidToken = false): OutpostError {
  return new OutpostError('unauthorized', 401, detail, {
    headers: { 'WWW-Authenticate': invalidToken ? `${REALM}, error="invalid_token"` : REALM },
  });
}

const NEEDS_TOKEN: Record<Exclude<RouteClass, 'open'>, string> = {
  read: `this server answers only requests with a token; ${SEND_TOKEN}`,
  execute: `executing processes and the jobs API need a token; ${SEND_TOKEN}`,
  admin: `the admin API needs an admin token; ${SEND_TOKEN}`,
};

/** The token of an `Authorization: Bearer <token>` header, undefined when the header has another form. */
export const bearerToken = (header: string): string | undefined => /^Bearer +(\S+) *$/i.exec(header)?.[1];

/** Told of each request whose credentials were refused, with the reason it was given. */
export type RefusalListener = (ctx: Context, reason: string) => void;

/** The caller named by the Authorization header, undefined without one. */
function caller(ctx: Context, users: UserStoreApi, refused: RefusalListener): RequestUser | undefined {
  const header = ctx.get('Authorization');
  if (header === '') return undefined;
  const refuse = (reason: string) => {
    refused(ctx, reason);
    return unauthorized(reason, true);
  };
  const token = bearerToken(header);
  if (!token) throw refuse("the Authorization header must be 'Bearer <token>'");
  const result = users.authenticate(token);
  if (!result.ok) throw refuse(result.reason === 'revoked' ? REVOKED_TOKEN : 'token is not valid');
  return result.user;
}

/**
 * Authenticates bearer tokens (looked up on every request, so a revoked token fails at once) and
 * applies docs/decisions.md, Users and access: sets `ctx.state.user` for a valid token, refuses a bad one with 401 (telling
 * `refused`, for the audit log), and refuses a request its caller may not make with 401 (no token) or 403 (not an admin).
 */
export function authentication(users: UserStoreApi, policy: AccessPolicy, refused: RefusalListener): Middleware {
  return async (ctx, next) => {
    const routes = policy.metricsOpen && isMetricsPath(ctx.path) ? 'open' : routeClass(ctx.path);
    if (routes === 'open') return next();
    const user = caller(ctx, users, refused);
    if (!user) {
      const allowed = routes === 'read' ? policy.anonymousRead : routes === 'execute' && policy.anonymousExecute;
      if (!allowed) throw unauthorized(NEEDS_TOKEN[routes]);
    } else if (routes === 'admin' && user.role !== 'admin') {
      throw new OutpostError('forbidden', 403, `the admin API needs an admin token; user '${user.name}' has role '${user.role}'`);
    }
    ctx.state.user = user;
    return next();
  };
}

/** The caller of the request, undefined when it came without a token. */
export function requestUser(ctx: Context): RequestUser | undefined {
  return ctx.state.user as RequestUser | undefined;
}

import type { Context, Middleware } from 'koa';

/** Link relations used by OGC API – Processes (OGC 18-062r2 §7.2, §7.9, §7.12, §7.13). */
export const REL = {
  conformance: 'http://www.opengis.net/def/rel/ogc/1.0/conformance',
  processes: 'http://www.opengis.net/def/rel/ogc/1.0/processes',
  jobList: 'http://www.opengis.net/def/rel/ogc/1.0/job-list',
  execute: 'http://www.opengis.net/def/rel/ogc/1.0/execute',
  results: 'http://www.opengis.net/def/rel/ogc/1.0/results',
} as const;

export const JSON_TYPE = 'application/json';
export const OPENAPI_TYPE = 'application/vnd.oai.openapi+json;version=3.0';

export interface Link {
  href: string;
  rel: string;
  type?: string;
  title?: string;
}

/**
 * Stores the public base URL for the request: the configured one (behind a reverse proxy) or
 * the request's own origin. Forwarded headers are not trusted, so they cannot forge links.
 */
export function publicBase(configured: string | undefined): Middleware {
  const base = configured?.replace(/\/+$/, '');
  return async (ctx, next) => {
    ctx.state.publicBase = base ?? `${ctx.protocol}://${ctx.host}`;
    await next();
  };
}

/**
 * An absolute URL for a path of this API. Process and job ids are restricted to URL-safe
 * characters by their schemas, so paths are used as they are.
 */
export function absoluteUrl(ctx: Context, path: string, query?: URLSearchParams): string {
  const search = query?.toString();
  return `${ctx.state.publicBase as string}${path}${search ? `?${search}` : ''}`;
}

export function link(ctx: Context, path: string, rel: string, title: string, type: string = JSON_TYPE): Link {
  return { href: absoluteUrl(ctx, path), rel, type, title };
}

/** The current request's own URL with its query (so `?f=json` and filters are kept). */
export function selfLink(ctx: Context, title: string): Link {
  return { href: absoluteUrl(ctx, ctx.path, new URLSearchParams(ctx.querystring)), rel: 'self', type: JSON_TYPE, title };
}

/** Hrefs stored as paths of this server become absolute; absolute ones stay as they are. */
export function resolveHref(ctx: Context, href: string): string {
  return href.startsWith('/') ? absoluteUrl(ctx, href) : href;
}

export const jobPath = (jobId: string) => `/jobs/${jobId}`;
export const processPath = (processId: string) => `/processes/${processId}`;
/** Where one output of a job is served; stored as the `href` of uploaded files. */

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
export const HTML_TYPE = 'text/html';
export const OPENAPI_TYPE = 'application/vnd.oai.openapi+json;version=3.0';

export interface Link {
  href: string;
  rel: string;
  type?: string;
  title?: string;
}

/** Whether a `Host` header names one of the configured hosts; an entry without a port allows any port. */
function isPublicHost(host: string, publicHosts: readonly string[]): boolean {
  const withoutPort = host.replace(/:\d+$/, '');
  return publicHosts.some((entry) => entry === host || (!/:\d+$/.test(entry) && entry === withoutPort));
}

/** The address and port the request came in on: where this server listens, whatever the client claims. */
function listenHost(ctx: Context): string {
  const { localAddress = '127.0.0.1', localPort } = ctx.req.socket;
  const address = localAddress.replace(/^::ffff:(?=\d+\.)/, '');
  return `${address.includes(':') ? `[${address}]` : address}:${localPort}`;
}

/**
 * Stores the public base URL for the request: the configured one (behind a reverse proxy); else
 * the request's own origin when its `Host` is one of `publicHosts`; else the address the request
 * came in on. Neither `Host` nor forwarded headers are trusted otherwise, so they cannot forge links
 * (docs/decisions.md, Security).
 */
export function publicBase(configured: string | undefined, publicHosts: readonly string[] = []): Middleware {
  const base = configured?.replace(/\/+$/, '');
  return async (ctx, next) => {
    const host = ctx.host.toLowerCase();
    ctx.state.publicBase = base ?? `${ctx.protocol}://${isPublicHost(host, publicHosts) ? host : listenHost(ctx)}`;
    await next();
  };
}

/** What building an absolute link needs of a request: the public base `publicBase` stored. */
export type UrlBase = Pick<Context, 'state'>;

/** A base for links made outside a request, e.g. in a callback's body. */
export const urlBase = (publicBase: string): UrlBase => ({ state: { publicBase } });

/**
 * An absolute URL for a path of this API. Process and job ids are restricted to URL-safe
 * characters by their schemas, so paths are used as they are.
 */
export function absoluteUrl(ctx: UrlBase, path: string, query?: URLSearchParams): string {
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

/**
 * The page of a resource, the `alternate` of its JSON document (OGC 18-062r2 /req/json/content,
 * /req/html/content); `query` keeps a list's filters.
 */
export function htmlLink(ctx: UrlBase, path: string, title: string, query?: string): Link {
  const search = new URLSearchParams(query);
  search.set('f', 'html');
  return { href: absoluteUrl(ctx, path, search), rel: 'alternate', type: HTML_TYPE, title };
}

/** The current request's page, with its query. */
export const alternateLink = (ctx: Context, title: string): Link => htmlLink(ctx, ctx.path, title, ctx.querystring);

/** Hrefs stored as paths of this server become absolute; absolute ones stay as they are. */
export function resolveHref(ctx: UrlBase, href: string): string {
  return href.startsWith('/') ? absoluteUrl(ctx, href) : href;
}

export const jobPath = (jobId: string) => `/jobs/${jobId}`;
export const processPath = (processId: string) => `/processes/${processId}`;
/** Where one output of a job is served; stored as the `href` of uploaded files. */

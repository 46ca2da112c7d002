import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'koa';
import { requestUser } from '../auth.js';
import { absoluteUrl } from '../links.js';

/** The build compiles only TypeScript, so templates and assets are read from the source tree. */
export const HTML_DIR = fileURLToPath(new URL('../../../../src/http/html/', import.meta.url));

/** Agent-supplied titles and descriptions reach every page: the engine escapes all `<%= %>` output. */
const eta = new Eta({ views: `${HTML_DIR}templates`, autoEscape: true, cache: true });

export const ASSETS_PATH = '/assets';

/**
 * Pages carry no inline script or style; images are this server's or the `blob:` URLs the job
 * page makes of outputs it fetched with the token (docs/decisions.md, HTTP).
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** The page's own URL in JSON: the `alternate` of every HTML page (OGC 18-062r2 /req/html/content). */
function jsonHref(ctx: Context): string {
  const query = new URLSearchParams(ctx.querystring);
  query.set('f', 'json');
  return absoluteUrl(ctx, ctx.path, query);
}

/** Answers with a page made from `template` and `data`, inside the common layout. */
export function sendPage(ctx: Context, template: string, title: string, data: Record<string, unknown>, scripts: string[] = []): void {
  const base = ctx.state.publicBase as string;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', PAGE_CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.body = eta.render(template, {
    ...data,
    title,
    base,
    assets: `${base}${ASSETS_PATH}`,
    scripts,
    user: requestUser(ctx)?.name ?? '',
    jsonHref: jsonHref(ctx),
  });
}

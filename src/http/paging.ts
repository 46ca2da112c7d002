import type { Context } from 'koa';
import { absoluteUrl, JSON_TYPE, selfLink, type Link } from './links.js';
import { integerParam } from './query-params.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export interface Paging {
  limit: number;
  offset: number;
}

/** `limit` as in OGC 18-062r2 §7.9.2 (and §11 for jobs); `offset` selects the page that `next` links to. */
export function parsePaging(ctx: Context): Paging {
  return {
    limit: integerParam(ctx, 'limit', { min: 1, max: MAX_LIMIT }) ?? DEFAULT_LIMIT,
    offset: integerParam(ctx, 'offset', { min: 0 }) ?? 0,
  };
}

function pageLink(ctx: Context, rel: 'next' | 'prev', offset: number, limit: number): Link {
  const query = new URLSearchParams(ctx.querystring);
  query.set('offset', String(offset));
  query.set('limit', String(limit));
  return { href: absoluteUrl(ctx, ctx.path, query), rel, type: JSON_TYPE, title: rel === 'next' ? 'next page' : 'previous page' };
}

/** `self`, plus `next` when more items follow and `prev` when this is not the first page (OGC 18-062r2 /rec/core/next-1..3). */
export function pageLinks(ctx: Context, paging: Paging, more: boolean, title: string): Link[] {
  const links = [selfLink(ctx, title)];
  if (more) links.push(pageLink(ctx, 'next', paging.offset + paging.limit, paging.limit));
  if (paging.offset > 0) links.push(pageLink(ctx, 'prev', Math.max(0, paging.offset - paging.limit), paging.limit));
  return links;
}

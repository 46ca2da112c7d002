import type { Context } from 'koa';
import type { ResponseFormat } from '../query-params.js';
import { sendPage } from './render.js';

/** How one OGC resource looks as a page: its template, title and scripts. */
export interface PageView {
  template: string;
  title: string;
  scripts?: string[];
  /** What the template needs besides the JSON document. */
  data?: Record<string, unknown>;
}

/**
 * The JSON document, or the page made from it when HTML was negotiated: both describe the same
 * resource and link each other (OGC 18-062r2 §7.4, html and json classes).
 */
export function represent(ctx: Context, doc: object, view: PageView): void {
  ctx.vary('Accept');
  if ((ctx.state.format as ResponseFormat | undefined) !== 'html') {
    ctx.body = doc;
    return;
  }
  sendPage(ctx, view.template, view.title, { doc, ...view.data }, view.scripts);
}

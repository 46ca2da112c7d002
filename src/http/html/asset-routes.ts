import type { Router } from '@koa/router';
import { staticFileServer } from '../static-files.js';
import { ASSETS_PATH, HTML_DIR, PAGE_CSP } from './render.js';

/** Only these files are served; nothing else of the disk is reachable. */
const FILES: Record<string, string> = {
  'site.css': 'text/css; charset=utf-8',
  'site.js': 'text/javascript; charset=utf-8',
  'execute-form.js': 'text/javascript; charset=utf-8',
  'job-list.js': 'text/javascript; charset=utf-8',
  'job-page.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

const serve = staticFileServer({ dir: `${HTML_DIR}assets/`, files: FILES, csp: PAGE_CSP, what: 'the HTML pages' });

/** `/assets/{file}`: the styles and scripts of the HTML pages, open like the pages' shells. */
export function assetRoutes(router: Router): void {
  router.get(`${ASSETS_PATH}/:file`, (ctx) => serve(ctx, ctx.params['file']!));
}

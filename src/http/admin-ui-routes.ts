import { fileURLToPath } from 'node:url';
import type { Router } from '@koa/router';
import { staticFileServer } from './static-files.js';

/** The build compiles only TypeScript, so the page's files are read from the source tree. */
const UI_DIR = fileURLToPath(new URL('../../../src/http/admin-ui/', import.meta.url));

/** Only these files are served; nothing else of the disk is reachable. */
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'admin.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'live-jobs.js': 'text/javascript; charset=utf-8',
  'sparkline.js': 'text/javascript; charset=utf-8',
  'admin.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/**
 * Agent-supplied text is rendered as text by the script; the policy is the second line of defence
 * should markup ever slip through: no inline script or style, nothing from elsewhere.
 */
export const ADMIN_UI_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const serve = staticFileServer({ dir: UI_DIR, files: FILES, csp: ADMIN_UI_CSP, what: 'the admin page' });

/**
 * `/admin/ui/`: the admin web page. It holds no data, so it is served without a token; its script
 * asks the guarded admin API with the token the admin types in.
 */
export function adminUiRoutes(router: Router): void {
  router.get('/admin/ui', async (ctx) => {
    // The page refers to its files and the API relatively, which works behind a path prefix too.
    if (!ctx.path.endsWith('/')) {
      ctx.status = 301;
      return ctx.redirect('ui/');
    }
    await serve(ctx, 'index.html');
  });
  router.get('/admin/ui/:file', (ctx) => serve(ctx, ctx.params['file']!));
}

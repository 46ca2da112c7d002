import { readFile } from 'node:fs/promises';
import type { Router } from '@koa/router';
import { OutpostError } from '../../errors.js';
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

/** `/assets/{file}`: the styles and scripts of the HTML pages, open like the pages' shells. */
export function assetRoutes(router: Router): void {
  router.get(`${ASSETS_PATH}/:file`, async (ctx) => {
    const file = ctx.params['file']!;
    const type = Object.hasOwn(FILES, file) ? FILES[file] : undefined;
    if (!type) throw new OutpostError('not-found', 404, `no such file of the HTML pages: '${file}'`);
    ctx.type = type;
    ctx.set('Content-Security-Policy', PAGE_CSP);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await readFile(`${HTML_DIR}assets/${file}`);
  });
}

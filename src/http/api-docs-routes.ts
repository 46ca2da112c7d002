import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Router } from '@koa/router';
import { OutpostError } from '../errors.js';

const require = createRequire(import.meta.url);
const SWAGGER_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
/** Only these files of swagger-ui-dist are served; nothing else of the disk is reachable. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Outpost API</title>
  <link rel="stylesheet" href="/api.html/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/api.html/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api.html/assets/swagger-ui-bundle.js"></script>
  <script src="/api.html/assets/init.js"></script>
</body>
</html>
`;

// A separate script rather than an inline one, so the page works under a strict Content-Security-Policy.
const INIT = `window.ui = SwaggerUIBundle({ url: '/api', dom_id: '#swagger-ui', deepLinking: true });\n`;

/** `/api.html`: Swagger UI over `/api`, served from the installed package (no CDN). */
export function apiDocsRoutes(router: Router): void {
  router.get('/api.html', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
    ctx.body = PAGE;
  });
  router.get('/api.html/assets/init.js', (ctx) => {
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = INIT;
  });
  router.get('/api.html/assets/:file', (ctx) => {
    const file = ctx.params['file'] ?? '';
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) throw new OutpostError('not-found', 404, `no such asset '${file}'`);
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = createReadStream(path.join(SWAGGER_DIR, file));
  });
}

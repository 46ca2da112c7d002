import type { Router } from '@koa/router';
import { represent } from './html/representation.js';
import { alternateLink, link, OPENAPI_TYPE, REL, selfLink } from './links.js';

const CONF = 'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf';

/** Conformance classes of OGC 18-062r2 that this API implements (§7.4, Annex A). */
export const CONFORMANCE_CLASSES = ['core', 'ogc-process-description', 'json', 'html', 'oas30', 'job-list', 'dismiss', 'callback'].map(
  (name) => `${CONF}/${name}`,
);

export const API_TITLE = 'Outpost';
export const API_DESCRIPTION = 'Command-line programs offered by remote agents, run as OGC API – Processes.';

/** Landing page and conformance (OGC 18-062r2 §7.2, §7.4), plus probes for process supervisors. */
export function landingRoutes(router: Router, readiness: () => boolean): void {
  router.get('/', (ctx) => {
    const landing = {
      title: API_TITLE,
      description: API_DESCRIPTION,
      links: [
        selfLink(ctx, 'this document'),
        alternateLink(ctx, 'this document as HTML'),
        link(ctx, '/api', 'service-desc', 'the API definition', OPENAPI_TYPE),
        link(ctx, '/api.html', 'service-doc', 'the API documentation', 'text/html'),
        link(ctx, '/conformance', REL.conformance, 'conformance classes implemented by this server'),
        link(ctx, '/processes', REL.processes, 'processes offered'),
        link(ctx, '/jobs', REL.jobList, 'jobs'),
      ],
    };
    represent(ctx, landing, { template: 'landing', title: API_TITLE });
  });

  router.get('/conformance', (ctx) => {
    const conformance = {
      conformsTo: CONFORMANCE_CLASSES,
      links: [selfLink(ctx, 'conformance classes'), alternateLink(ctx, 'conformance classes as HTML')],
    };
    represent(ctx, conformance, { template: 'conformance', title: 'Conformance' });
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', (ctx) => {
    const ready = readiness();
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable' };
  });
}

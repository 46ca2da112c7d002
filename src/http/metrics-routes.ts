import type { Router } from '@koa/router';
import type { Registry } from 'prom-client';

/** `/metrics` in the Prometheus text format (beyond the standard; docs/decisions.md, Security). */
export function metricsRoutes(router: Router, metrics: Registry): void {
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.contentType;
    ctx.body = await metrics.metrics();
  });
}

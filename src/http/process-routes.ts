import type { Router } from '@koa/router';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { pageLinks, parsePaging } from './paging.js';
import { findProcess, processDescription, processSummary } from './process-description.js';

/** Process list and process description (OGC 18-062r2 §7.9, §7.10). */
export function processRoutes(router: Router, registry: AgentRegistry): void {
  router.get('/processes', (ctx) => {
    const paging = parsePaging(ctx);
    const offered = registry.processes();
    const page = offered.slice(paging.offset, paging.offset + paging.limit);
    ctx.body = {
      processes: page.map(({ spec }) => processSummary(ctx, spec)),
      links: pageLinks(ctx, paging, paging.offset + paging.limit < offered.length, 'processes offered'),
    };
  });

  router.get('/processes/:processId', (ctx) => {
    ctx.body = processDescription(ctx, findProcess(registry, ctx.params['processId']!));
  });
}

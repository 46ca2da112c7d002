import type { Router } from '@koa/router';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { represent } from './html/representation.js';
import { alternateLink } from './links.js';
import { pageLinks, parsePaging } from './paging.js';
import { findProcess, processDescription, processSummary } from './process-description.js';

/** Process list and process description (OGC 18-062r2 §7.9, §7.10). */
export function processRoutes(router: Router, registry: AgentRegistry): void {
  router.get('/processes', (ctx) => {
    const paging = parsePaging(ctx);
    const offered = registry.processes();
    const page = offered.slice(paging.offset, paging.offset + paging.limit);
    const list = {
      processes: page.map(({ spec }) => processSummary(ctx, spec)),
      links: [...pageLinks(ctx, paging, paging.offset + paging.limit < offered.length, 'processes offered'), alternateLink(ctx, 'processes as HTML')],
    };
    represent(ctx, list, { template: 'processes', title: 'Processes' });
  });

  router.get('/processes/:processId', (ctx) => {
    const description = processDescription(ctx, findProcess(registry, ctx.params['processId']!));
    const title = description.title ?? description.id;
    represent(ctx, description, { template: 'process', title, scripts: ['execute-form.js'] });
  });
}

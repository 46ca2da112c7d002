import type { Router } from '@koa/router';
import type { JobService } from '../jobs/job-service.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { ResultFiles } from '../store/result-files.js';
import { jobListView, jobPageView, resultsPageView } from './html/job-views.js';
import { represent } from './html/representation.js';
import { findVisibleJob, visibleOwner } from './job-access.js';
import { parseJobListQuery } from './job-list-query.js';
import { alternateLink, htmlLink, jobPath } from './links.js';
import { pageLinks } from './paging.js';
import { sendResults, successfulJob } from './results-response.js';
import { statusInfo } from './status-info.js';

export interface JobRouteDeps {
  registry: AgentRegistry;
  jobs: JobService;
  results: ResultFiles;
}

/** Job list, status, results and dismissal (OGC 18-062r2 §7.12, §7.13, §11 job-list, §13 dismiss). */
export function jobRoutes(router: Router, deps: JobRouteDeps): void {
  router.get('/jobs', async (ctx) => {
    const filter = { ...parseJobListQuery(ctx), owner: visibleOwner(ctx) };
    const page = await deps.jobs.list(filter);
    const list = {
      jobs: page.jobs.map((job) => statusInfo(ctx, job)),
      links: [...pageLinks(ctx, filter, page.more, 'jobs'), alternateLink(ctx, 'jobs as HTML')],
    };
    represent(ctx, list, jobListView(ctx));
  });

  router.get('/jobs/:jobId', async (ctx) => {
    const job = await findVisibleJob(ctx, deps.jobs, ctx.params['jobId']!);
    represent(ctx, statusInfo(ctx, job), jobPageView(ctx, job));
  });

  router.get('/jobs/:jobId/results', async (ctx) => {
    const job = successfulJob(await findVisibleJob(ctx, deps.jobs, ctx.params['jobId']!));
    if (ctx.state.format === 'html') return represent(ctx, {}, resultsPageView(ctx, job));
    await sendResults(ctx, job, deps.registry.process(job.processId)?.spec, deps.results);
    // The results document has no links member, so its page is named in a header (RFC 8288).
    const page = htmlLink(ctx, `${jobPath(job.id)}/results`, 'results as HTML');
    ctx.append('Link', `<${page.href}>; rel="alternate"; type="${page.type}"`);
  });

  router.delete('/jobs/:jobId', async (ctx) => {
    const job = await findVisibleJob(ctx, deps.jobs, ctx.params['jobId']!);
    ctx.body = statusInfo(ctx, await deps.jobs.dismiss(job.id));
  });
}

import type { Router } from '@koa/router';
import { OutpostError } from '../errors.js';
import type { JobService } from '../jobs/job-service.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobStore } from '../store/job-store.js';
import { findVisibleJob, visibleOwner } from './job-access.js';
import { parseJobListQuery } from './job-list-query.js';
import { pageLinks } from './paging.js';
import { jobFailure, sendResults } from './results-response.js';
import { statusInfo } from './status-info.js';

export interface JobRouteDeps {
  registry: AgentRegistry;
  jobs: JobStore;
  jobService: JobService;
}

/** Job list, status, results and dismissal (OGC 18-062r2 §7.12, §7.13, §11 job-list, §13 dismiss). */
export function jobRoutes(router: Router, deps: JobRouteDeps): void {
  router.get('/jobs', (ctx) => {
    const filter = { ...parseJobListQuery(ctx), owner: visibleOwner(ctx) };
    const page = deps.jobs.list(filter);
    ctx.body = {
      jobs: page.jobs.map((job) => statusInfo(ctx, job)),
      links: pageLinks(ctx, filter, page.more, 'jobs'),
    };
  });

  router.get('/jobs/:jobId', (ctx) => {
    ctx.body = statusInfo(ctx, findVisibleJob(ctx, deps.jobs, ctx.params['jobId']!));
  });

  router.get('/jobs/:jobId/results', (ctx) => {
    const job = findVisibleJob(ctx, deps.jobs, ctx.params['jobId']!);
    switch (job.status) {
      case 'successful':
        return sendResults(ctx, job, deps.registry.process(job.processId)?.spec);
      case 'failed':
        throw jobFailure(job);
      case 'dismissed':
        throw new OutpostError('no-such-job', 404, `job '${job.id}' was dismissed; it has no results`);
      default:
        // OGC 18-062r2 /req/core/job-results-exception/results-not-ready
        throw new OutpostError('result-not-ready', 404, `job '${job.id}' is ${job.status}; its results are not ready yet`);
    }
  });

  router.delete('/jobs/:jobId', async (ctx) => {
    const job = findVisibleJob(ctx, deps.jobs, ctx.params['jobId']!);
    ctx.body = statusInfo(ctx, await deps.jobService.dismiss(job.id));
  });
}

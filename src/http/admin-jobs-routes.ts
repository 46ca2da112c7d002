import type { Router } from '@koa/router';
import type { Context } from 'koa';
import type { OutputValue } from '../../protocol/index.js';
import type { JobRecord } from '../store/job-record.js';
import type { JobQueries } from '../store/job-store-api.js';
import { noSuchJob } from './job-access.js';
import { parseJobListQuery } from './job-list-query.js';
import { link, resolveHref } from './links.js';
import { pageLinks } from './paging.js';
import { invalidParameter, singleParam } from './query-params.js';
import { statusInfo } from './status-info.js';

const adminJobPath = (jobId: string) => `/admin/jobs/${jobId}`;

function nonEmptyParam(ctx: Context, name: string): string | undefined {
  const value = singleParam(ctx, name)?.trim();
  if (value === '') throw invalidParameter(name, 'must not be empty');
  return value;
}

/**
 * A job as an admin sees it: its statusInfo, whose it is and where it ran. The only link is the
 * admin view, since `/jobs/{id}` answers the job's owner only.
 */
export function adminSummary(ctx: Context, job: JobRecord) {
  return {
    ...statusInfo(ctx, job),
    owner: job.owner,
    agent: job.agent,
    dismissedBy: job.dismissedBy,
    links: [link(ctx, adminJobPath(job.id), 'self', 'job, admin view')],
  };
}

function resolvedResults(ctx: Context, results: Record<string, OutputValue>): Record<string, OutputValue> {
  return Object.fromEntries(
    Object.entries(results).map(([id, value]) => [id, 'href' in value ? { ...value, href: resolveHref(ctx, value.href) } : value]),
  );
}

/**
 * The jobs of all users (docs/architecture.md, HTTP API): the OGC job-list filters plus `user` and `agent`
 * (a full JID, or a bare one for every connection of the account), and each job's whole record,
 * with the stderr tail that clients never see.
 */
export function adminJobsRoutes(router: Router, deps: { jobs: JobQueries }): void {
  router.get('/admin/jobs', async (ctx) => {
    const filter = { ...parseJobListQuery(ctx), owner: nonEmptyParam(ctx, 'user'), agent: nonEmptyParam(ctx, 'agent') };
    const page = await deps.jobs.list(filter);
    ctx.body = {
      jobs: page.jobs.map((job) => adminSummary(ctx, job)),
      links: pageLinks(ctx, filter, page.more, 'jobs of all users'),
    };
  });

  router.get('/admin/jobs/:jobId', async (ctx) => {
    const job = await deps.jobs.get(ctx.params['jobId']!);
    if (!job) throw noSuchJob(ctx.params['jobId']!);
    ctx.body = {
      ...adminSummary(ctx, job),
      inputs: job.inputs,
      execution: job.execution,
      results: job.results && resolvedResults(ctx, job.results),
      error: job.error,
    };
  });
}

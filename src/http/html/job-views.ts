import type { Context } from 'koa';
import { isFinished, JOB_STATUSES, type JobRecord } from '../../store/job-record.js';
import { absoluteUrl, jobPath } from '../links.js';
import { resultsDocument } from '../results-response.js';
import { isReference } from '../result-downloads.js';
import type { PageView } from './representation.js';

/** One output as the page shows it: a value as text, a file as a link the page's script previews. */
export interface OutputView {
  id: string;
  text?: string;
  href?: string;
  type?: string;
  size?: number;
}

/** The outputs of the results document, with the file sizes the document leaves out. */
export function outputViews(ctx: Context, job: JobRecord): OutputView[] {
  const document = resultsDocument(ctx, job);
  return Object.entries(document).map(([id, shown]) => {
    const value = job.results?.[id];
    if (value && isReference(value)) return { id, href: (shown as { href: string }).href, type: value.mediaType, size: value.size };
    return { id, text: typeof shown === 'string' ? shown : JSON.stringify(shown, null, 2) };
  });
}

/** How long a finished run took, as the page shows it; the script fills it in for a run that ends while shown. */
export function runTime(started: string | null | undefined, finished: string | null | undefined): string {
  if (!started || !finished) return '';
  return `${((Date.parse(finished) - Date.parse(started)) / 1000).toFixed(1)} s`;
}

/** The job page: status that its script keeps up to date from the event stream, and the results once there are some. */
export function jobPageView(ctx: Context, job: JobRecord): PageView {
  const path = jobPath(job.id);
  return {
    template: 'job',
    title: `Job ${job.id}`,
    scripts: ['job-page.js'],
    data: {
      finished: isFinished(job),
      duration: runTime(job.started, job.finished),
      failed: job.status === 'failed',
      eventsHref: absoluteUrl(ctx, `${path}/events`),
      jobHref: absoluteUrl(ctx, path),
      outputs: job.status === 'successful' ? outputViews(ctx, job) : [],
    },
  };
}

export function resultsPageView(ctx: Context, job: JobRecord): PageView {
  return {
    template: 'results',
    title: `Results of job ${job.id}`,
    scripts: ['job-page.js'],
    data: { jobHref: absoluteUrl(ctx, jobPath(job.id)), outputs: outputViews(ctx, job) },
  };
}

/** The job list with its filters as given, so the form shows what the list was asked for. */
export function jobListView(ctx: Context): PageView {
  const given = (name: string) => {
    const value = ctx.query[name];
    return typeof value === 'string' ? value : '';
  };
  return {
    template: 'jobs',
    title: 'Jobs',
    scripts: ['job-list.js'],
    data: { statuses: JOB_STATUSES, filter: { processID: given('processID'), status: given('status'), datetime: given('datetime'), limit: given('limit') } },
  };
}

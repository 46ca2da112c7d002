import type { JobRecord, JobStatus } from '../store/job-record.js';
import { absoluteUrl, htmlLink, jobPath, JSON_TYPE, REL, type Link, type UrlBase } from './links.js';

/** OGC 18-062r2 `statusInfo.yaml`; timestamps absent until they happen. */
export interface StatusInfo {
  jobID: string;
  processID: string;
  type: 'process';
  status: JobStatus;
  message?: string;
  created: string;
  started?: string;
  finished?: string;
  updated: string;
  progress: number;
  links: Link[];
}

function jobLinks(ctx: UrlBase, job: JobRecord): Link[] {
  const self = jobPath(job.id);
  const links: Link[] = [
    { href: absoluteUrl(ctx, self), rel: 'self', type: JSON_TYPE, title: 'job status' },
    htmlLink(ctx, self, 'job status as HTML'),
  ];
  // Results are linked only once there are some (OGC 18-062r2 /req/core/job-success).
  if (job.status === 'successful') {
    links.push({ href: absoluteUrl(ctx, `${self}/results`), rel: REL.results, type: JSON_TYPE, title: 'job results' });
  }
  return links;
}

/** Why a finished job ended, rather than its last progress line: a failure's cause, or who dismissed it. */
function statusMessage(job: JobRecord): string | undefined {
  if (job.status === 'dismissed' && job.dismissedBy !== null) return `dismissed by ${job.dismissedBy}`;
  return job.error?.message ?? job.message ?? undefined;
}

export function statusInfo(ctx: UrlBase, job: JobRecord): StatusInfo {
  return {
    jobID: job.id,
    processID: job.processId,
    type: 'process',
    status: job.status,
    message: statusMessage(job),
    created: job.created,
    started: job.started ?? undefined,
    finished: job.finished ?? undefined,
    updated: job.updated,
    progress: Math.round(job.progress),
    links: jobLinks(ctx, job),
  };
}

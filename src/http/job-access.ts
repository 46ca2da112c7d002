import type { Context } from 'koa';
import { OutpostError } from '../errors.js';
import type { JobRecord } from '../store/job-record.js';
import type { JobStore } from '../store/job-store.js';

/** Owner recorded on jobs while requests carry no identity. */
export const ANONYMOUS = 'anonymous';

/** Who is making the request; the owner of the jobs it creates. */
export function requestOwner(_ctx: Context): string {
  return ANONYMOUS;
}

/** Recorded as who killed a job through the admin API while requests carry no identity. */
const ADMIN = 'admin';

/** Which administrator is making an admin request. */
export function requestAdmin(_ctx: Context): string {
  return ADMIN;
}

/**
 * The one place that decides whose jobs a request may see: the owner to restrict to, or
 * undefined for all jobs. Every job is visible until requests are authenticated (SPEC §5).
 */
export function visibleOwner(_ctx: Context): string | undefined {
  return undefined;
}

export function noSuchJob(jobId: string): OutpostError {
  return new OutpostError('no-such-job', 404, `job '${jobId}' does not exist`);
}

/** The job if it exists and the request may see it; someone else's job looks exactly like a missing one. */
export function findVisibleJob(ctx: Context, jobs: JobStore, jobId: string): JobRecord {
  const job = jobs.get(jobId);
  const owner = visibleOwner(ctx);
  if (!job || (owner !== undefined && job.owner !== owner)) throw noSuchJob(jobId);
  return job;
}

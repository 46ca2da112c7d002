import type { Context } from 'koa';
import { OutpostError } from '../errors.js';
import type { JobRecord } from '../store/job-record.js';
import type { JobQueries } from '../store/job-store-api.js';
import { ANONYMOUS } from '../store/user-store.js';
import { requestUser } from './auth.js';

/** Who is making the request; the owner of the jobs it creates. */
export function requestOwner(ctx: Context): string {
  return requestUser(ctx)?.name ?? ANONYMOUS;
}

/** Which administrator is making an admin request; only admins get past authentication into `/admin`. */
export function requestAdmin(ctx: Context): string {
  return requestOwner(ctx);
}

/**
 * The one place that decides whose jobs a request may see: only its caller's own (docs/decisions.md, Users and access), also
 * for admins, whose view of everyone's jobs is the admin API. Requests without a token (allowed
 * by `anonymousExecute`) share the jobs of `anonymous`.
 */
export function visibleOwner(ctx: Context): string {
  return requestOwner(ctx);
}

export function noSuchJob(jobId: string): OutpostError {
  return new OutpostError('no-such-job', 404, `job '${jobId}' does not exist`);
}

/** The job if it exists and the request may see it; someone else's job looks exactly like a missing one. */
export async function findVisibleJob(ctx: Context, jobs: JobQueries, jobId: string): Promise<JobRecord> {
  return visibleJob(ctx, await jobs.get(jobId), jobId);
}

/** The job as read, if the request may see it. */
export function visibleJob(ctx: Context, job: JobRecord | undefined, jobId: string): JobRecord {
  if (!job || job.owner !== visibleOwner(ctx)) throw noSuchJob(jobId);
  return job;
}

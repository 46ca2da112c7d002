import { OutpostError } from '../errors.js';
import { isFinished, type JobRecord } from '../store/job-record.js';
import type { JobUpdates } from './job-updates.js';

/** A job's state when it was read, and its later changes; `listen` first tells those made since the read. */
export interface JobFollower {
  current: JobRecord | undefined;
  listen(listener: (job: JobRecord) => void): void;
  stop(): void;
}

/**
 * Subscribes first, then reads in the job's turn (`inTurn`), where no change of the job can
 * overlap the read: changes told before it are in what it returns and are dropped; those after
 * it are kept for `listen`. So no change falls between the two, and none is told twice.
 */
export async function followJob(
  updates: JobUpdates,
  jobId: string,
  read: () => Promise<JobRecord | undefined>,
  inTurn: (step: () => Promise<JobRecord | undefined>) => Promise<JobRecord | undefined>,
): Promise<JobFollower> {
  let early: JobRecord[] = [];
  let deliver: (job: JobRecord) => void = (job) => early.push(job);
  const stop = updates.subscribe(jobId, (job) => deliver(job));
  const current = await inTurn(async () => {
    const job = await read();
    early = [];
    return job;
  }).catch((err: unknown) => {
    stop();
    throw err;
  });
  return {
    current,
    listen(listener) {
      deliver = listener;
      for (const job of early) listener(job);
    },
    stop,
  };
}

/** Resolves with the job once it is finished, or at once with undefined when there is none. */
export function untilFinished(follower: JobFollower, signal: AbortSignal): Promise<JobRecord> | undefined {
  if (!follower.current) {
    follower.stop();
    return undefined;
  }
  const first = follower.current;
  return new Promise((resolve, reject) => {
    const settle = (done: () => void) => {
      follower.stop();
      signal.removeEventListener('abort', onAbort);
      done();
    };
    const onAbort = () => settle(() => reject(signal.reason));
    const check = (job: JobRecord) => {
      if (isFinished(job)) settle(() => resolve(job));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    check(first);
    follower.listen(check);
  });
}

export const noSuchJob = (jobId: string) => new OutpostError('no-such-job', 404, `job '${jobId}' does not exist`);

/** Resolves with the job once it is finished (successful, failed or dismissed); a job that does not exist is a 404. */
export async function finishedJob(follow: (jobId: string) => Promise<JobFollower>, jobId: string, signal: AbortSignal): Promise<JobRecord> {
  signal.throwIfAborted();
  const finished = untilFinished(await follow(jobId), signal);
  if (!finished) throw noSuchJob(jobId);
  return finished;
}

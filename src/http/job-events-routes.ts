import type { Router } from '@koa/router';
import type { JobService } from '../jobs/job-service.js';
import { isFinished, type JobRecord } from '../store/job-record.js';
import { openEventStream, type EventStreamDeps } from './event-stream.js';
import { visibleJob } from './job-access.js';
import { statusInfo } from './status-info.js';

export { EVENT_STREAM_TYPE } from './event-stream.js';

export interface JobEventsDeps extends EventStreamDeps {
  jobs: JobService;
}

/**
 * `GET /jobs/{id}/events` (beyond the standard; docs/decisions.md, HTTP): the job's statusInfo as Server-Sent
 * Events, first as it is now, then at each change, ending after the one that reports a finished
 * status, or with a `revoked` event once the token it was opened with is revoked.
 */
export function jobEventsRoutes(router: Router, deps: JobEventsDeps): void {
  router.get('/jobs/:jobId/events', async (ctx) => {
    const jobId = ctx.params['jobId']!;
    const follower = await deps.jobs.follow(jobId);
    let job: JobRecord;
    try {
      job = visibleJob(ctx, follower.current, jobId);
    } catch (error) {
      follower.stop();
      throw error;
    }
    const { stream, stop } = openEventStream(ctx, deps, () => follower.stop());
    let sent = 0;
    const send = (update: JobRecord) => {
      if (stream.writableEnded) return;
      stream.write(`event: status\nid: ${++sent}\ndata: ${JSON.stringify(statusInfo(ctx, update))}\n\n`);
      if (isFinished(update)) {
        stream.end();
        stop();
      }
    };
    send(job);
    follower.listen(send);
  });
}

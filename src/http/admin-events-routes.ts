import type { Router } from '@koa/router';
import type { JobEvent, JobEventStream } from '../jobs/job-events.js';
import { adminSummary } from './admin-jobs-routes.js';
import { openEventStream, type EventStreamDeps } from './event-stream.js';

export interface AdminEventsDeps extends EventStreamDeps {
  /** Every change of every job, as the lifecycle makes them. */
  jobEvents: JobEventStream;
}

/**
 * `GET /admin/events` (admin only, like all of `/admin`): every job's changes as Server-Sent Events,
 * for the admin page (docs/decisions.md, Admin). A `job` event carries the change and the job as
 * `/admin/jobs` lists it; a `removed` event the id of a job its owner dismissed (`reason: dismissed`) or that was kept long enough (`expired`). The stream never
 * ends by itself; it ends with a `revoked` event once the token it was opened with is revoked.
 */
export function adminEventsRoutes(router: Router, deps: AdminEventsDeps): void {
  router.get('/admin/events', (ctx) => {
    let sent = 0;
    const { stream } = openEventStream(ctx, deps, () => unlisten());
    const unlisten = deps.jobEvents.listen((event: JobEvent) => {
      if (stream.writableEnded) return;
      const [name, data] =
        event.type === 'removed' ? ['removed', { jobID: event.job.id, reason: event.reason }] : ['job', { change: event.type, job: adminSummary(ctx, event.job) }];
      stream.write(`event: ${name}\nid: ${++sent}\ndata: ${JSON.stringify(data)}\n\n`);
    });
    // Sent at once, so that the client has the response, and knows it hears every change from now on.
    stream.write(': listening\n\n');
  });
}

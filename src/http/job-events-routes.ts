import { PassThrough } from 'node:stream';
import type { Router } from '@koa/router';
import { ERROR_TYPES } from '../errors.js';
import type { JobService } from '../jobs/job-service.js';
import { isFinished, type JobRecord } from '../store/job-record.js';
import type { UserStore } from '../store/user-store.js';
import { requestUser, REVOKED_TOKEN } from './auth.js';
import { visibleJob } from './job-access.js';
import { statusInfo } from './status-info.js';

export interface JobEventsDeps {
  jobs: JobService;
  /** Whose tokens are revoked, told at once for revocations made here and asked at each keep-alive. */
  users: UserStore;
  /** Interval of the keep-alive comments on event streams, and of the token checks (default 15 s). */
  heartbeatMs?: number;
}

export const EVENT_STREAM_TYPE = 'text/event-stream';
const HEARTBEAT_MS = 15_000;
const REVOKED_EVENT = `event: revoked\ndata: ${JSON.stringify({ type: ERROR_TYPES.unauthorized, status: 401, detail: REVOKED_TOKEN })}\n\n`;

/**
 * `GET /jobs/{id}/events` (beyond the standard; docs/decisions.md, HTTP): the job's statusInfo as Server-Sent
 * Events, first as it is now, then at each change, ending after the one that reports a finished
 * status. A stream opened with a token ends with a `revoked` event once the token is revoked: at
 * once when this server revoked it, by the next keep-alive when another process did (docs/decisions.md,
 * Security).
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
    const stream = new PassThrough();
    let sent = 0;
    const send = (update: JobRecord) => {
      if (stream.writableEnded) return;
      stream.write(`event: status\nid: ${++sent}\ndata: ${JSON.stringify(statusInfo(ctx, update))}\n\n`);
      if (isFinished(update)) {
        stream.end();
        stop();
      }
    };
    const tokenId = requestUser(ctx)?.tokenId;
    const revoke = () => {
      if (!stream.writableEnded) stream.end(REVOKED_EVENT);
      stop();
    };
    const onRevoked = (id: string) => id === tokenId && revoke();
    if (tokenId !== undefined) deps.users.on('token-revoked', onRevoked);
    // Comments keep proxies and clients from closing a stream that is quiet during a long step.
    const heartbeat = setInterval(() => {
      if (tokenId !== undefined && !deps.users.isTokenLive(tokenId)) revoke();
      else stream.write(': keep-alive\n\n');
    }, deps.heartbeatMs ?? HEARTBEAT_MS);
    const stop = () => {
      clearInterval(heartbeat);
      follower.stop();
      deps.users.off('token-revoked', onRevoked);
    };
    // Koa destroys the body stream when the client goes away, which closes it.
    stream.once('close', stop);

    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.type = EVENT_STREAM_TYPE;
    ctx.set('Cache-Control', 'no-cache');
    // Reverse proxies such as nginx would otherwise hold events back until their buffer fills.
    ctx.set('X-Accel-Buffering', 'no');
    ctx.body = stream;
    send(job);
    follower.listen(send);
  });
}

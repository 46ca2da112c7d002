import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import { ERROR_TYPES } from '../errors.js';
import type { UserStoreApi } from '../store/user-store.js';
import { requestUser, REVOKED_TOKEN } from './auth.js';

export interface EventStreamDeps {
  /** Whose tokens are revoked, told at once for revocations made here and asked at each keep-alive. */
  users: UserStoreApi;
  /** Interval of the keep-alive comments on event streams, and of the token checks (default 15 s). */
  heartbeatMs?: number;
}

export const EVENT_STREAM_TYPE = 'text/event-stream';
const HEARTBEAT_MS = 15_000;
const REVOKED_EVENT = `event: revoked\ndata: ${JSON.stringify({ type: ERROR_TYPES.unauthorized, status: 401, detail: REVOKED_TOKEN })}\n\n`;

export interface EventStream {
  stream: PassThrough;
  /** Stops the keep-alives and calls the route's `onStop`; once, however the stream ended. */
  stop: () => void;
}

/**
 * Makes the response a Server-Sent Events stream. A stream opened with a token ends with a
 * `revoked` event once the token is revoked: at once when this server revoked it, by the next
 * keep-alive when another process did (docs/decisions.md, Security).
 */
export function openEventStream(ctx: Context, deps: EventStreamDeps, onStop: () => void): EventStream {
  const stream = new PassThrough();
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
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(heartbeat);
    deps.users.off('token-revoked', onRevoked);
    onStop();
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
  return { stream, stop };
}

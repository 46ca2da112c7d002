import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { ERROR_TYPES, OutpostError, type ErrorCode } from '../errors.js';
import { sendPage } from './html/render.js';
import { negotiatedFormat } from './query-params.js';

const TITLES: Record<ErrorCode, string> = {
  'no-such-process': 'No such process',
  'no-such-job': 'No such job',
  'result-not-ready': 'Result not ready',
  'invalid-parameter': 'Invalid parameter',
  'invalid-input': 'Invalid input',
  'bad-request': 'Bad request',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'not-acceptable': 'Not acceptable',
  'job-failed': 'Job failed',
  'job-dismissed': 'Job dismissed',
  'job-finished': 'Job finished',
  conflict: 'Conflict',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  'too-many-requests': 'Too many requests',
  unavailable: 'Service unavailable',
  'not-found': 'Not found',
  internal: 'Internal error',
};

/** Codes for client errors raised by Koa and its libraries (`ctx.throw`, http-errors). */
const CODES_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  406: 'not-acceptable',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
};

/** An `OutpostError` whose exception body carries extra members (RFC 7807 §3.2 extensions). */
export class ProblemError extends OutpostError {
  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    readonly extensions: Record<string, unknown>,
  ) {
    super(code, status, message);
  }
}

interface Problem {
  code: ErrorCode;
  status: number;
  detail: string;
  headers: Record<string, string>;
  extensions: Record<string, unknown>;
}

interface HttpErrorLike {
  status?: unknown;
  expose?: unknown;
  message?: unknown;
  headers?: unknown;
}

const GENERIC_DETAIL = 'the server could not complete the request; the error has been logged';

/** Seconds a client is asked to wait when the server cannot store anything (docs/decisions.md, Faults under load). */
const STORAGE_RETRY_AFTER_SECONDS = 30;

/**
 * What a full or read-only data directory means for a client: nothing was changed, and trying
 * again later works once an operator has made room. SQLite reports it in its own codes
 * (extended ones such as SQLITE_READONLY_DBMOVED included), files in errno codes.
 */
function storageFault(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return "the server's disk is full, so it cannot store anything now; nothing was changed, retry later";
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return "the server's data directory is read-only, so it cannot store anything now; nothing was changed, retry later";
  return undefined;
}

function toProblem(error: unknown): Problem | undefined {
  if (error instanceof OutpostError) {
    const extensions = error instanceof ProblemError ? error.extensions : {};
    return { code: error.code, status: error.status, detail: error.message, headers: error.headers, extensions };
  }
  const { status, expose, message, headers } = (error ?? {}) as HttpErrorLike;
  // Only client errors that their library marked as safe to show are passed on (Koa's `expose` rule).
  if (typeof status !== 'number' || status < 400 || status > 499 || expose !== true) return undefined;
  return {
    code: CODES_BY_STATUS[status] ?? 'bad-request',
    status,
    detail: typeof message === 'string' ? message : TITLES['bad-request'],
    headers: typeof headers === 'object' && headers !== null ? (headers as Record<string, string>) : {},
    extensions: {},
  };
}

function send(ctx: Context, problem: Problem): void {
  ctx.set(problem.headers);
  ctx.status = problem.status;
  if (negotiatedFormat(ctx) === 'html') {
    return sendPage(ctx, 'error', TITLES[problem.code], { status: problem.status, detail: problem.detail, needsToken: problem.status === 401 });
  }
  // OGC 18-062r2 §7.6 exceptions are served as JSON with the members of RFC 7807.
  ctx.type = 'application/json';
  ctx.body = {
    type: ERROR_TYPES[problem.code],
    title: TITLES[problem.code],
    status: problem.status,
    detail: problem.detail,
    ...problem.extensions,
  };
}

/** Routes that answered nothing: unknown paths, or a known path with another method (router `allowedMethods`). */
function unanswered(ctx: Context): OutpostError | undefined {
  if (ctx.body != null || ctx.respond === false) return undefined;
  if (ctx.status === 404) return new OutpostError('not-found', 404, `there is no resource at ${ctx.path}`);
  if (ctx.status === 405 || ctx.status === 501) {
    const allow = ctx.response.get('Allow');
    return new OutpostError('bad-request', ctx.status, `method ${ctx.method} is not allowed on ${ctx.path}; allowed: ${allow}`, {
      headers: { Allow: allow },
    });
  }
  return undefined;
}

/** Turns every error into an OGC exception body; anything unexpected is logged and reported without its message. */
export function errorMiddleware(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      const missing = unanswered(ctx);
      if (missing) throw missing;
    } catch (error) {
      const problem = toProblem(error);
      if (problem) return send(ctx, problem);
      const fault = storageFault(error);
      if (fault) {
        logger.error({ code: (error as { code: string }).code, method: ctx.method, path: ctx.path }, 'request refused: the data directory cannot be written');
        const headers = { 'Retry-After': String(STORAGE_RETRY_AFTER_SECONDS) };
        return send(ctx, { code: 'unavailable', status: 503, detail: fault, headers, extensions: {} });
      }
      logger.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      send(ctx, { code: 'internal', status: 500, detail: GENERIC_DETAIL, headers: {}, extensions: {} });
    }
  };
}

/**
 * Koa's `error` event: errors of a response already under way, i.e. of a streamed body. A client
 * that closes an event stream ends it early; that is how such streams normally end, not a fault.
 */
export function responseErrorLogger(logger: Logger): (error: NodeJS.ErrnoException) => void {
  return (error) => {
    if (error.code !== 'ERR_STREAM_PREMATURE_CLOSE') logger.error({ err: error }, 'response failed');
  };
}

import { bodyParser } from '@koa/bodyparser';
import type { Middleware } from 'koa';
import { OutpostError } from '../errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../protocol/index.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

interface BodyError {
  status?: number;
  type?: string;
  message?: string;
}

function describe(error: unknown, maxBytes: number): OutpostError | undefined {
  const { status, type, message } = (error ?? {}) as BodyError;
  if (type === 'entity.too.large' || status === 413) {
    return new OutpostError('payload-too-large', 413, `request body is larger than the limit of ${maxBytes} bytes`);
  }
  if (status === 415) return new OutpostError('unsupported-media-type', 415, message ?? 'unsupported content encoding');
  if (error instanceof SyntaxError) return new OutpostError('bad-request', 400, `request body is not valid JSON: ${error.message}`);
  if (status === 400) return new OutpostError('bad-request', 400, message ?? 'request body could not be read');
  return undefined;
}

/**
 * Parses a JSON request body into `ctx.request.body`. A request without any body counts as `{}`
 * (an execute request for a process whose inputs are all optional); a body of another media
 * type is refused with 415 instead of being silently ignored.
 */
export function jsonBody(maxBytes: number = DEFAULT_MAX_BODY_BYTES): Middleware {
  // The media type is checked below (any `+json` type counts), so the parser need not match it again.
  const parse = bodyParser({ enableTypes: ['json'], detectJSON: () => true, jsonLimit: maxBytes, jsonStrict: false });
  return async (ctx, next) => {
    const type = ctx.is('application/json', '+json');
    if (type === null || ctx.request.length === 0) {
      ctx.request.body = {};
      return next();
    }
    if (type === false) {
      const given = ctx.get('Content-Type') || 'none';
      throw new OutpostError('unsupported-media-type', 415, `request body must be application/json, got Content-Type ${given}`);
    }
    try {
      await parse(ctx, async () => {});
    } catch (error) {
      throw describe(error, maxBytes) ?? error;
    }
    // Checked on the text, so a body nested thousands deep never reaches a stack-bound JSON.stringify.
    if (nestsDeeperThan(ctx.request.rawBody ?? '')) {
      throw new OutpostError('bad-request', 400, `request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`);
    }
    return next();
  };
}

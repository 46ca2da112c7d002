import type { Context, Middleware } from 'koa';
import { OutpostError } from '../errors.js';

export function invalidParameter(name: string, problem: string): OutpostError {
  return new OutpostError('invalid-parameter', 400, `query parameter '${name}' ${problem}`);
}

/** The parameter's value when given once; a repeated parameter is refused rather than guessed. */
export function singleParam(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw invalidParameter(name, 'must be given at most once');
  return value;
}

/** Values of a parameter that may be repeated and/or comma-separated (OGC 18-062r2 §7.7, `processID`). */
export function listParam(ctx: Context, name: string): string[] | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw])
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (values.length === 0) throw invalidParameter(name, 'must not be empty');
  return values;
}

export function integerParam(ctx: Context, name: string, range: { min: number; max?: number }): number | undefined {
  const raw = singleParam(ctx, name);
  if (raw === undefined) return undefined;
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  const inRange = Number.isSafeInteger(value) && value >= range.min && (range.max === undefined || value <= range.max);
  if (!inRange) {
    const wanted = range.max === undefined ? `an integer of at least ${range.min}` : `an integer from ${range.min} to ${range.max}`;
    throw invalidParameter(name, `must be ${wanted}, got '${raw}'`);
  }
  return value;
}

export const RESPONSE_FORMATS = ['json', 'html'] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

/**
 * `f` wins; otherwise HTML only for a client that prefers it to JSON, as a browser's Accept header
 * does, so a client that accepts any type, or sends no Accept, gets JSON (OGC 18-062r2 §7.4, html and json classes).
 * Never throws: an error page is negotiated with this before `f` is checked.
 */
export function negotiatedFormat(ctx: Context): ResponseFormat {
  const format = ctx.query['f'];
  if (format === 'html' || format === 'json') return format;
  return ctx.accepts('application/json', 'text/html') === 'text/html' ? 'html' : 'json';
}

/** Checks `f` and keeps the negotiated format in `ctx.state.format` for the routes that offer HTML. */
export function responseFormat(): Middleware {
  return async (ctx, next) => {
    const format = singleParam(ctx, 'f');
    if (format !== undefined && !(RESPONSE_FORMATS as readonly string[]).includes(format)) {
      throw invalidParameter('f', `must be 'json' or 'html', got '${format}'`);
    }
    ctx.state.format = negotiatedFormat(ctx);
    await next();
  };
}

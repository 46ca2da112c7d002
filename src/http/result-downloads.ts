import path from 'node:path';
import type { Context } from 'koa';
import { extension } from 'mime-types';
import type { OutputSpec, OutputType, OutputValue } from '../../protocol/index.js';
import { OutpostError } from '../errors.js';
import type { JobRecord } from '../store/job-record.js';
import { resultPath, type ResultFiles } from '../store/result-files.js';

export type Reference = Extract<OutputValue, { href: string }>;

export const isReference = (value: OutputValue): value is Reference => 'href' in value;

/** What an output is sent as when its type says nothing more. */
const PLAIN_TYPES: Record<OutputType, string> = {
  string: 'text/plain; charset=utf-8',
  json: 'application/json',
  file: 'application/octet-stream',
};

/** Files are linked unless asked for by value; strings and JSON come inline (docs/decisions.md, Outputs and progress). */
export function defaultMode(output: OutputSpec | undefined): 'value' | 'reference' {
  return output?.type === 'file' ? 'reference' : 'value';
}

/** The media types an output can be asked for in (`format.mediaType`). */
export function offeredMediaTypes(output: OutputSpec): string[] {
  return output.formats ?? [output.mediaType ?? PLAIN_TYPES[output.type]];
}

/** The media type is the output's declared one where the process is still offered, else read from the value. */
export function rawBody(value: unknown, output: OutputSpec | undefined): { type: string; body: string } {
  if (typeof value === 'string' && (output?.type ?? 'string') === 'string') {
    return { type: output?.mediaType ?? PLAIN_TYPES.string, body: value };
  }
  return { type: output?.mediaType ?? PLAIN_TYPES.json, body: JSON.stringify(value) };
}

/**
 * The name a download is offered under: the one the program gave its file, else the output's
 * id; either way with the media type's usual extension when it has none.
 */
export function downloadName(outputId: string, type: string, filename?: string): string {
  const name = filename !== undefined && filename !== '.' && filename !== '..' ? filename : outputId;
  const known = extension(type);
  return path.extname(name) === '' && known ? `${name}.${known}` : name;
}

/** Types a browser shows harmlessly; anything else a program produced is sent as an attachment. */
const INLINE_TYPES = /^(?:text\/plain|text\/csv|application\/json|application\/[\w.+-]+\+json)\s*(?:;|$)/i;

/** Made by a program: never sniffed, never able to run script as this site, and named when downloaded. */
function protect(ctx: Context, type: string, name: string, attachment: boolean): void {
  // RFC 6266 through Koa's `content-disposition`: a quoted ASCII `filename`, and the name itself
  // as `filename*` (UTF-8, percent-encoded) when it is not plain ASCII.
  if (attachment || !INLINE_TYPES.test(type)) ctx.attachment(name, { fallback: name.replace(/[^\x20-\x7e]/g, '_') });
  ctx.type = type;
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Content-Security-Policy', 'sandbox');
}

/** A value made by a program, as a response body. */
export function sendValue(ctx: Context, outputId: string, type: string, body: string): void {
  protect(ctx, type, downloadName(outputId, type), false);
  ctx.body = body;
}

/**
 * An output stored as a file, as the response body: a file output always as an attachment, a
 * value that was uploaded for its size as its value would be sent.
 */
export async function sendStoredFile(ctx: Context, results: ResultFiles, job: JobRecord, outputId: string, value: Reference, isFile: boolean): Promise<void> {
  // References are accepted only where this server stores results (checked when the job finished).
  const file = value.href === resultPath(job.id, outputId) ? await results.read(job.id, outputId) : undefined;
  if (!file) throw new OutpostError('not-found', 404, `the file of output '${outputId}' of job '${job.id}' is no longer stored`);
  const type = value.mediaType ?? PLAIN_TYPES.file;
  ctx.status = 200;
  ctx.body = file.stream;
  ctx.length = file.size;
  protect(ctx, type, downloadName(outputId, type, value.filename), isFile);
  // As the agent declared it (docs/protocol.md §5.8): `ctx.type` adds `charset=utf-8` to text
  // types, a claim about bytes this server never looked at.
  ctx.set('Content-Type', type);
}

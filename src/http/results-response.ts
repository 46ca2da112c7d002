import type { Context } from 'koa';
import type { OutputSpec, OutputValue, ProcessSpec } from '../../protocol/index.js';
import type { JobErrorCode, JobRecord } from '../store/job-record.js';
import { OutpostError } from '../errors.js';
import { ProblemError } from './error-middleware.js';
import { resolveHref, type UrlBase } from './links.js';

export type Reference = Extract<OutputValue, { href: string }>;
type Selected = { id: string; value: OutputValue }[];

export const isReference = (value: OutputValue): value is Reference => 'href' in value;

/**
 * OGC 18-062r2 /req/core/job-results-failed asks for "a HTTP error code that corresponds to the
 * reason of the failure". Inputs the agent refused are the client's error (400); no agent to run
 * the job is a temporary condition of the service (503); a run that went wrong is a failure to
 * carry out a valid request (500). Synchronous execution answers a failed job the same way.
 */
const FAILURE_STATUS: Record<JobErrorCode, number> = {
  'invalid-inputs': 400,
  // Inputs too large for one execute message: stored before that limit was checked at submission.
  undeliverable: 400,
  'no-agent': 503,
  'agent-lost': 503,
  rejected: 503,
  exit: 500,
  signal: 500,
  timeout: 500,
  spawn: 500,
  output: 500,
  aborted: 500,
  internal: 500,
};

/** The exception for a failed job, with its failure code as a machine-readable member. */
export function jobFailure(job: JobRecord): ProblemError {
  const error = job.error ?? { code: 'internal', message: 'the job failed without giving a reason' };
  const failure = { code: error.code, exitCode: error.exitCode, signal: error.signal };
  return new ProblemError(
    error.code === 'invalid-inputs' ? 'invalid-input' : 'job-failed',
    FAILURE_STATUS[error.code],
    `job '${job.id}' failed (${error.code}): ${error.message}`,
    { jobID: job.id, failure },
  );
}

/** The job if it has results; otherwise the exception that says why not. */
export function successfulJob(job: JobRecord): JobRecord {
  switch (job.status) {
    case 'successful':
      return job;
    case 'failed':
      throw jobFailure(job);
    case 'dismissed':
      throw new OutpostError('no-such-job', 404, `job '${job.id}' was dismissed; it has no results`);
    default:
      // OGC 18-062r2 /req/core/job-results-exception/results-not-ready
      throw new OutpostError('result-not-ready', 404, `job '${job.id}' is ${job.status}; its results are not ready yet`);
  }
}

/** The outputs the client asked for, all of them when it named none (OGC 18-062r2 §7.11.2.4). */
function selectedResults(job: JobRecord): Selected {
  const results = job.results ?? {};
  const ids = job.execution.outputs ? Object.keys(job.execution.outputs) : Object.keys(results);
  return ids.flatMap((id) => (results[id] ? [{ id, value: results[id] }] : []));
}

function documentValue(ctx: UrlBase, value: OutputValue): unknown {
  return isReference(value) ? { href: resolveHref(ctx, value.href), type: value.mediaType } : value.value;
}

/** OGC 18-062r2 `results.yaml`: output id → inline value, or a link for references. */
export function resultsDocument(ctx: UrlBase, job: JobRecord): Record<string, unknown> {
  return Object.fromEntries(selectedResults(job).map(({ id, value }) => [id, documentValue(ctx, value)]));
}

/** The media type is the output's declared one where the process is still offered, else read from the value. */
export function rawBody(value: unknown, output: OutputSpec | undefined): { type: string; body: string } {
  if (typeof value === 'string' && (output?.type ?? 'string') === 'string') {
    return { type: output?.mediaType ?? 'text/plain; charset=utf-8', body: value };
  }
  return { type: output?.mediaType ?? 'application/json', body: JSON.stringify(value) };
}

/** Types a browser shows harmlessly; anything else a program produced is sent as an attachment. */
const INLINE_TYPES = /^(?:text\/plain|text\/csv|application\/json|application\/[\w.+-]+\+json)\s*(?:;|$)/i;

/** A value made by a program, as a response body: never sniffed, never able to run script as this site. */
export function sendValue(ctx: Context, type: string, body: string): void {
  ctx.type = type;
  ctx.body = body;
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Content-Security-Policy', 'sandbox');
  if (!INLINE_TYPES.test(type)) ctx.set('Content-Disposition', 'attachment');
}

function linkHeader(ctx: Context, selected: { id: string; value: Reference }[]): string {
  return selected
    .map(({ id, value }) => {
      const type = value.mediaType ? `; type="${value.mediaType}"` : '';
      return `<${resolveHref(ctx, value.href)}>; rel="enclosure"; title="${id}"${type}`;
    })
    .join(', ');
}

/**
 * A string or JSON output that was too large for the agent's message arrives as a file. A raw
 * request asked for that value, not a link, so it is sent to where the value is (303 See Other).
 */
function storedValue(job: JobRecord, spec: ProcessSpec | undefined, id: string): boolean {
  const type = spec?.outputs[id]?.type;
  return (type === 'string' || type === 'json') && job.execution.outputs?.[id]?.transmissionMode !== 'reference';
}

/**
 * A raw response (OGC 18-062r2 /req/core/process-execute-sync-raw-value-one and
 * -sync-raw-ref): one value as the body (or a redirect to it, when stored as a file), or 204
 * with a Link header per output when all are references. Returns false when the results fit neither, e.g. an agent reported more outputs
 * than the request settled on; the caller then answers with the results document.
 */
function sendRaw(ctx: Context, job: JobRecord, selected: Selected, spec: ProcessSpec | undefined): boolean {
  const [only] = selected;
  if (selected.length === 1 && only && isReference(only.value) && storedValue(job, spec, only.id)) {
    ctx.status = 303;
    ctx.redirect(resolveHref(ctx, only.value.href));
    return true;
  }
  const references = selected.flatMap(({ id, value }) => (isReference(value) ? [{ id, value }] : []));
  if (selected.length > 0 && references.length === selected.length) {
    ctx.status = 204;
    ctx.set('Link', linkHeader(ctx, references));
    return true;
  }
  if (selected.length !== 1 || !only || isReference(only.value)) return false;
  const { type, body } = rawBody(only.value.value, spec?.outputs[only.id]);
  ctx.status = 200;
  sendValue(ctx, type, body);
  return true;
}

/** Answers with a successful job's results as its execute request asked: document or raw. */
export function sendResults(ctx: Context, job: JobRecord, spec: ProcessSpec | undefined): void {
  if (job.execution.response === 'raw' && sendRaw(ctx, job, selectedResults(job), spec)) return;
  ctx.status = 200;
  ctx.body = resultsDocument(ctx, job);
}

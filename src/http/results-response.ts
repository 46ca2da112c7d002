import type { Context } from 'koa';
import type { OutputSpec, OutputValue, ProcessSpec } from '../../protocol/index.js';
import type { JobErrorCode, JobRecord } from '../store/job-record.js';
import { resultPath, type ResultFiles } from '../store/result-files.js';
import { OutpostError } from '../errors.js';
import { ProblemError } from './error-middleware.js';
import { resolveHref, type UrlBase } from './links.js';
import { defaultMode, isReference, rawBody, sendStoredFile, sendValue } from './result-downloads.js';

interface Selected {
  id: string;
  value: OutputValue;
  mode: 'value' | 'reference';
  /** Undefined once the process is no longer offered. */
  output: OutputSpec | undefined;
}

/** A file (or an uploaded value) carried by value in a results document is read whole, up to this size. */
export const DOCUMENT_VALUE_LIMIT = 16 * 1024 * 1024;

/**
 * OGC 18-062r2 /req/core/job-results-failed asks for "a HTTP error code that corresponds to the
 * reason of the failure". Inputs the agent refused are the client's error (400); no agent to run
 * the job is a temporary condition of the service (503); a run that went wrong is a failure to
 * carry out a valid request (500). Synchronous execution answers a failed job the same way.
 */
const FAILURE_STATUS: Record<JobErrorCode, number> = {
  'invalid-inputs': 400,
  // A file input the agent could not fetch: the client named it (or sent it), so the client can fix it.
  input: 400,
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
    error.code === 'invalid-inputs' || error.code === 'input' ? 'invalid-input' : 'job-failed',
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

/** The outputs the client asked for, all of them when it named none (OGC 18-062r2 §7.11.2.4), each with its transmission mode. */
function selectedResults(job: JobRecord, spec: ProcessSpec | undefined): Selected[] {
  const results = job.results ?? {};
  const ids = job.execution.outputs ? Object.keys(job.execution.outputs) : Object.keys(results);
  return ids.flatMap((id) => {
    const value = results[id];
    if (!value) return [];
    const output = spec?.outputs[id];
    const asked = job.execution.outputs?.[id]?.transmissionMode;
    const mode = asked ?? (output ? defaultMode(output) : isReference(value) ? 'reference' : 'value');
    return [{ id, value, mode, output }];
  });
}

/** A file output, or one whose type is unknown but was stored as a file. */
const isFileOutput = ({ output, value }: Selected) => (output ? output.type === 'file' : isReference(value));

/** OGC 18-062r2 `link.yaml`, with the size in bytes as `length` (as in RFC 4287 and OGC API – Records links). */
function link(ctx: UrlBase, job: JobRecord, { id, value, output }: Selected): { href: string; type?: string; length?: number } {
  if (isReference(value)) {
    const { mediaType, size } = value;
    return { href: resolveHref(ctx, value.href), ...(mediaType !== undefined && { type: mediaType }), ...(size !== undefined && { length: size }) };
  }
  const { type, body } = rawBody(value.value, output);
  return { href: resolveHref(ctx, resultPath(job.id, id)), type, length: Buffer.byteLength(body) };
}

/** A value as the document carries it: stored text or JSON decoded, a file as an OGC qualified value in base64. */
function storedValue(item: Selected, stored: Buffer): unknown {
  if (isFileOutput(item)) {
    return { value: stored.toString('base64'), encoding: 'base64', mediaType: (item.value as { mediaType?: string }).mediaType ?? 'application/octet-stream' };
  }
  const text = stored.toString('utf8');
  return item.output?.type === 'json' ? JSON.parse(text) : text;
}

/**
 * OGC 18-062r2 `results.yaml`: output id → value or link, as each output's transmission mode
 * says. `stored` holds the bytes of stored outputs asked for by value (see `readStoredValues`);
 * one not read is linked, which is what a callback's document does.
 */
export function resultsDocument(ctx: UrlBase, job: JobRecord, spec?: ProcessSpec, stored: Record<string, Buffer> = {}): Record<string, unknown> {
  return Object.fromEntries(
    selectedResults(job, spec).map((item) => {
      const { id, value, mode } = item;
      if (mode === 'value' && !isReference(value)) return [id, value.value];
      const bytes = mode === 'value' ? stored[id] : undefined;
      return [id, bytes ? storedValue(item, bytes) : link(ctx, job, item)];
    }),
  );
}

/** The bytes of the stored outputs a results document carries by value; too large a one is refused, not linked. */
async function readStoredValues(results: ResultFiles, job: JobRecord, spec: ProcessSpec | undefined): Promise<Record<string, Buffer>> {
  const stored: Record<string, Buffer> = {};
  for (const { id, value, mode } of selectedResults(job, spec)) {
    if (mode !== 'value' || !isReference(value)) continue;
    if ((value.size ?? 0) > DOCUMENT_VALUE_LIMIT) {
      throw new OutpostError(
        'not-acceptable',
        406,
        `output '${id}' is ${value.size} bytes, more than the ${DOCUMENT_VALUE_LIMIT} bytes a results document carries by value; ` +
          `ask for it with 'transmissionMode' 'reference', or alone with 'response' 'raw', or fetch ${resultPath(job.id, id)}`,
      );
    }
    const file = value.href === resultPath(job.id, id) ? await results.read(job.id, id) : undefined;
    if (file) stored[id] = Buffer.concat(await file.stream.toArray());
  }
  return stored;
}

function linkHeader(ctx: Context, job: JobRecord, selected: Selected[]): string {
  return selected
    .map((item) => {
      const { href, type } = link(ctx, job, item);
      return `<${href}>; rel="enclosure"; title="${item.id}"${type ? `; type="${type}"` : ''}`;
    })
    .join(', ');
}

/**
 * A raw response (OGC 18-062r2 /req/core/process-execute-sync-raw-value-one and -sync-raw-ref):
 * one output asked for by value as the body, whether it came inline or as a file, or 204 with a
 * Link header per output when all are asked for by reference. Returns false when the results fit
 * neither, e.g. an agent reported more outputs than the request settled on; the caller then
 * answers with the results document.
 */
async function sendRaw(ctx: Context, job: JobRecord, selected: Selected[], results: ResultFiles): Promise<boolean> {
  const [only] = selected;
  if (selected.length === 1 && only && only.mode === 'value') {
    if (isReference(only.value)) {
      await sendStoredFile(ctx, results, job, only.id, only.value, isFileOutput(only));
      return true;
    }
    const { type, body } = rawBody(only.value.value, only.output);
    ctx.status = 200;
    sendValue(ctx, only.id, type, body);
    return true;
  }
  if (selected.length > 0 && selected.every(({ mode }) => mode === 'reference')) {
    ctx.status = 204;
    ctx.set('Link', linkHeader(ctx, job, selected));
    return true;
  }
  return false;
}

/** Answers with a successful job's results as its execute request asked: document or raw. */
export async function sendResults(ctx: Context, job: JobRecord, spec: ProcessSpec | undefined, results: ResultFiles): Promise<void> {
  if (job.execution.response === 'raw' && (await sendRaw(ctx, job, selectedResults(job, spec), results))) return;
  const stored = await readStoredValues(results, job, spec);
  ctx.status = 200;
  ctx.body = resultsDocument(ctx, job, spec, stored);
}

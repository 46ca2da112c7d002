import type { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { OutpostError } from '../errors.js';
import type { OutputSpec } from '../../protocol/index.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import { isFinished, type JobRecord } from '../store/job-record.js';
import type { JobQueries } from '../store/job-store-api.js';
import { FileTooLargeError, isStorableOutputId, resultPath, type ResultFiles } from '../store/result-files.js';
import type { UploadTokenStore } from '../store/upload-tokens.js';
import { bearerToken } from './auth.js';
import { auditRefusal, type AuditLog } from './audit-trail.js';
import { absoluteUrl } from './links.js';

export interface UploadDeps {
  registry: AgentRegistry;
  jobs: JobQueries;
  results: ResultFiles;
  /** The file inputs that clients sent inline, which the job's agent fetches with the same token. */
  inputs: ResultFiles;
  uploadTokens: UploadTokenStore;
  maxUploadBytes: number;
  audit: AuditLog;
  logger: Logger;
}


function uploadToken(ctx: Context): string {
  const token = bearerToken(ctx.get('Authorization'));
  if (token) return token;
  throw new OutpostError('unauthorized', 401, "an upload needs the header 'Authorization: Bearer <upload token>' given to the job's agent", {
    headers: { 'WWW-Authenticate': 'Bearer realm="outpost-uploads"' },
  });
}

async function jobTakingUploads(ctx: Context, deps: UploadDeps, jobId: string, token: string): Promise<JobRecord> {
  // The token first: without one that fits, nobody learns whether the job exists.
  const job = (await deps.uploadTokens.matches(jobId, token)) ? await deps.jobs.get(jobId) : undefined;
  if (!job) {
    const reason = `the upload token is not valid for job '${jobId}'`;
    auditRefusal(ctx, deps.audit, reason, deps.logger);
    throw new OutpostError('forbidden', 403, reason);
  }
  if (isFinished(job)) throw new OutpostError('job-finished', 409, `job '${jobId}' is ${job.status}; it takes no more uploads`);
  return job;
}

/** The outputs as the agent running the job describes them (it may run an older version), else as offered. */
function declaredOutputs(registry: AgentRegistry, job: JobRecord): Record<string, OutputSpec> {
  const own = job.agent === null ? undefined : registry.agent(job.agent)?.processes.find((p) => p.id === job.processId);
  const outputs = (own ?? registry.process(job.processId)?.spec)?.outputs;
  if (outputs) return outputs;
  throw new OutpostError('unavailable', 503, `process '${job.processId}' is not offered right now, so its outputs are unknown; retry later`, {
    headers: { 'Retry-After': '5' },
  });
}

function checkOutput(registry: AgentRegistry, job: JobRecord, outputId: string): void {
  if (!isStorableOutputId(outputId)) {
    throw new OutpostError('bad-request', 400, `'${outputId}' is not an output id: it must match [A-Za-z0-9_.-]{1,100} and not be '.' or '..'`);
  }
  const outputs = declaredOutputs(registry, job);
  if (!Object.hasOwn(outputs, outputId)) {
    throw new OutpostError('not-found', 404, `process '${job.processId}' has no output '${outputId}'; its outputs are: ${Object.keys(outputs).join(', ')}`);
  }
}

function tooLarge(maxBytes: number): OutpostError {
  // The rest of the body is not read, so the connection cannot serve another request.
  return new OutpostError('payload-too-large', 413, `the file is larger than the upload limit of ${maxBytes} bytes`, { headers: { Connection: 'close' } });
}

/**
 * A job that ended while its file was on its way takes nothing more; what arrived is dropped with
 * the job's other files, unless the job succeeded (its agent uploads before reporting success).
 */
async function ended(deps: UploadDeps, jobId: string): Promise<OutpostError> {
  if ((await deps.jobs.get(jobId))?.status !== 'successful') await deps.results.remove(jobId);
  return new OutpostError('job-finished', 409, `job '${jobId}' ended during the upload; the file was discarded`);
}

/**
 * `PUT /uploads/{jobId}/{outputId}`: the agent running a job stores one of its outputs as a file
 * (docs/protocol.md §5.8). The body is streamed to disk, never held in memory.
 */
export function uploadRoutes(router: Router, deps: UploadDeps): void {
  router.put('/uploads/:jobId/:outputId', async (ctx) => {
    const jobId = ctx.params['jobId']!;
    const outputId = ctx.params['outputId']!;
    const job = await jobTakingUploads(ctx, deps, jobId, uploadToken(ctx));
    checkOutput(deps.registry, job, outputId);
    if ((ctx.request.length ?? 0) > deps.maxUploadBytes) throw tooLarge(deps.maxUploadBytes);

    let stored;
    try {
      stored = await deps.results.write(job.id, outputId, ctx.req, deps.maxUploadBytes);
    } catch (error) {
      if (error instanceof FileTooLargeError) throw tooLarge(deps.maxUploadBytes);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw await ended(deps, job.id);
      if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
        throw new OutpostError('bad-request', 400, 'the upload ended before the whole body had arrived');
      }
      throw error;
    }
    const current = await deps.jobs.get(job.id);
    if (!current || isFinished(current)) throw await ended(deps, job.id);

    const href = resultPath(job.id, outputId);
    ctx.status = 201;
    ctx.set('Location', absoluteUrl(ctx, href));
    ctx.body = { href, ...stored };
  });

  /** `GET /inputs/{jobId}/{inputId}`: the agent running a job fetches a file its client sent inline (docs/protocol.md, file inputs). */
  router.get('/inputs/:jobId/:inputId', async (ctx) => {
    const jobId = ctx.params['jobId']!;
    const inputId = ctx.params['inputId']!;
    const job = await jobTakingUploads(ctx, deps, jobId, uploadToken(ctx));
    const file = isStorableOutputId(inputId) ? await deps.inputs.read(job.id, inputId) : undefined;
    if (!file) throw new OutpostError('not-found', 404, `job '${jobId}' has no file input '${inputId}' sent inline`);
    ctx.type = 'application/octet-stream';
    ctx.length = file.size;
    ctx.body = file.stream;
  });
}

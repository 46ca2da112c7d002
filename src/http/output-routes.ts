import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { OutpostError } from '../errors.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobRecord } from '../store/job-record.js';
import type { JobQueries } from '../store/job-store-api.js';
import type { ResultFiles } from '../store/result-files.js';
import { findVisibleJob } from './job-access.js';
import { resultPath } from '../store/result-files.js';
import { isReference, rawBody, sendValue, successfulJob, type Reference } from './results-response.js';

export interface OutputRouteDeps {
  registry: AgentRegistry;
  jobs: JobQueries;
  results: ResultFiles;
}

async function sendFile(ctx: Context, results: ResultFiles, job: JobRecord, outputId: string, value: Reference): Promise<void> {
  // References are accepted only where this server stores results (checked when the job finished).
  const file = value.href === resultPath(job.id, outputId) ? await results.read(job.id, outputId) : undefined;
  if (!file) throw new OutpostError('not-found', 404, `the file of output '${outputId}' of job '${job.id}' is no longer stored`);
  ctx.body = file.stream;
  // As the agent declared it (docs/protocol.md §5.8): `ctx.type` would add `charset=utf-8` to text
  // types, a claim about bytes this server never looked at.
  ctx.set('Content-Type', value.mediaType ?? 'application/octet-stream');
  ctx.length = file.size;
  // Files come from programs; served inline from this origin, an HTML one could act as this site.
  ctx.set('Content-Disposition', `attachment; filename="${outputId}"`);
  ctx.set('X-Content-Type-Options', 'nosniff');
}

/** One output of a successful job on its own: an uploaded file as stored, a value as its raw body. */
export function outputRoutes(router: Router, deps: OutputRouteDeps): void {
  router.get('/jobs/:jobId/results/:outputId', async (ctx) => {
    const job = successfulJob(await findVisibleJob(ctx, deps.jobs, ctx.params['jobId']!));
    const outputId = ctx.params['outputId']!;
    const results = job.results ?? {};
    const value = Object.hasOwn(results, outputId) ? results[outputId] : undefined;
    if (!value) throw new OutpostError('not-found', 404, `job '${job.id}' has no output '${outputId}'`);
    if (isReference(value)) return sendFile(ctx, deps.results, job, outputId, value);
    const { type, body } = rawBody(value.value, deps.registry.process(job.processId)?.spec.outputs[outputId]);
    sendValue(ctx, type, body);
  });
}

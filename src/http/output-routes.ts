import type { Router } from '@koa/router';
import { OutpostError } from '../errors.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobQueries } from '../store/job-store-api.js';
import type { ResultFiles } from '../store/result-files.js';
import { findVisibleJob } from './job-access.js';
import { isReference, rawBody, sendStoredFile, sendValue } from './result-downloads.js';
import { successfulJob } from './results-response.js';

export interface OutputRouteDeps {
  registry: AgentRegistry;
  jobs: JobQueries;
  results: ResultFiles;
}

/** One output of a successful job on its own: an uploaded file as stored, a value as its raw body. */
export function outputRoutes(router: Router, deps: OutputRouteDeps): void {
  router.get('/jobs/:jobId/results/:outputId', async (ctx) => {
    const job = successfulJob(await findVisibleJob(ctx, deps.jobs, ctx.params['jobId']!));
    const outputId = ctx.params['outputId']!;
    const results = job.results ?? {};
    const value = Object.hasOwn(results, outputId) ? results[outputId] : undefined;
    if (!value) throw new OutpostError('not-found', 404, `job '${job.id}' has no output '${outputId}'`);
    const output = deps.registry.process(job.processId)?.spec.outputs[outputId];
    if (isReference(value)) return sendStoredFile(ctx, deps.results, job, outputId, value, output ? output.type === 'file' : true);
    const { type, body } = rawBody(value.value, output);
    sendValue(ctx, outputId, type, body);
  });
}

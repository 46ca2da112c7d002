import type { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { OutpostError } from '../errors.js';
import type { JobService } from '../jobs/job-service.js';
import type { ProcessSpec } from '../../protocol/index.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { ResultFiles } from '../store/result-files.js';
import type { JobRecord, Subscriber } from '../store/job-record.js';
import { urlRefusal, type AddressAllowlist } from '../../net/address-guard.js';
import { parseExecuteRequest } from './execute-request.js';
import { requestOwner } from './job-access.js';
import { absoluteUrl, jobPath } from './links.js';
import { findProcess } from './process-description.js';
import { jobFailure, sendResults } from './results-response.js';
import { statusInfo } from './status-info.js';

export interface ExecutionDeps {
  registry: AgentRegistry;
  jobs: JobService;
  jsonBody: Middleware;
  /** For a process with file inputs: a body that may carry them, up to the upload limit. */
  filesBody: Middleware;
  /** Where callbacks may go besides public addresses (`--callback-allow`). */
  callbackAllow: AddressAllowlist;
  results: ResultFiles;
}

/** A subscriber URI that callbacks may not use is the client's error, said before any job exists. */
async function checkSubscriber(subscriber: Subscriber | undefined, allow: AddressAllowlist): Promise<void> {
  for (const [member, uri] of Object.entries(subscriber ?? {})) {
    const refusal = await urlRefusal(uri, allow);
    if (refusal) throw new OutpostError('bad-request', 400, `'subscriber.${member}' ${uri} ${refusal}`);
  }
}

/** RFC 7240 preferences are comma-separated tokens, case-insensitive, each optionally with a value. */
export function prefersAsync(header: string): boolean {
  return header.split(',').some((preference) => preference.split(/[;=]/, 1)[0]!.trim().toLowerCase() === 'respond-async');
}

/** Waits for the job, giving up (without touching the job) when the client goes away. */
async function finishedOrAbandoned(ctx: Context, jobs: JobService, jobId: string): Promise<JobRecord | undefined> {
  const controller = new AbortController();
  const abandon = () => controller.abort();
  ctx.res.once('close', abandon);
  try {
    return await jobs.waitUntilFinished(jobId, controller.signal);
  } catch (error) {
    if (controller.signal.aborted) return undefined;
    throw error;
  } finally {
    ctx.res.off('close', abandon);
  }
}

async function answerFinished(ctx: Context, job: JobRecord, spec: ProcessSpec, results: ResultFiles): Promise<void> {
  switch (job.status) {
    case 'successful':
      return sendResults(ctx, job, spec, results);
    case 'failed':
      throw jobFailure(job);
    default:
      throw new OutpostError('job-dismissed', 410, `job '${job.id}' was dismissed before it finished`);
  }
}

/**
 * Execute (OGC 18-062r2 §7.11). Every process offers both modes, so the `Prefer` header decides
 * (§7.11.2.3, /req/core/process-execute-auto-execution-mode): `respond-async` gives 201 with the
 * job's status, anything else waits for the results. The process is looked up before the body
 * is read, so an unknown one is reported as such whatever the body holds.
 */
export function executionRoutes(router: Router, deps: ExecutionDeps): void {
  router.post(
    '/processes/:processId/execution',
    async (ctx, next) => {
      ctx.state.process = findProcess(deps.registry, ctx.params['processId']!);
      await next();
    },
    (ctx, next) => {
      const takesFiles = Object.values((ctx.state.process as ProcessSpec).inputs).some((input) => input.type === 'file');
      return (takesFiles ? deps.filesBody : deps.jsonBody)(ctx, next);
    },
    async (ctx) => {
      const spec = ctx.state.process as ProcessSpec;
      const { inputs, execution } = parseExecuteRequest(ctx.request.body, spec);
      await checkSubscriber(execution.subscriber, deps.callbackAllow);
      const job = await deps.jobs.submit({ processId: spec.id, inputs, execution, owner: requestOwner(ctx) });
      ctx.set('Location', absoluteUrl(ctx, jobPath(job.id)));

      if (prefersAsync(ctx.get('Prefer'))) {
        ctx.status = 201;
        ctx.set('Preference-Applied', 'respond-async');
        ctx.body = statusInfo(ctx, job);
        return;
      }
      const finished = await finishedOrAbandoned(ctx, deps.jobs, job.id);
      if (!finished) {
        ctx.respond = false;
        return;
      }
      await answerFinished(ctx, finished, spec, deps.results);
    },
  );
}

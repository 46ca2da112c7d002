import { Router } from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { JobService } from '../jobs/job-service.js';
import type { JobUpdates } from '../jobs/job-updates.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobStore } from '../store/job-store.js';
import { DEFAULT_MAX_UPLOAD_BYTES, type ResultFiles } from '../store/result-files.js';
import type { UploadTokens } from '../store/upload-tokens.js';
import { adminRoutes } from './admin-routes.js';
import { apiDocsRoutes } from './api-docs-routes.js';
import { errorMiddleware, responseErrorLogger } from './error-middleware.js';
import { executionRoutes } from './execution-routes.js';
import { jobEventsRoutes } from './job-events-routes.js';
import { jobRoutes } from './job-routes.js';
import { DEFAULT_MAX_BODY_BYTES, jsonBody } from './json-body.js';
import { landingRoutes } from './landing-routes.js';
import { publicBase } from './links.js';
import { openApiRoutes } from './openapi.js';
import { outputRoutes } from './output-routes.js';
import { processRoutes } from './process-routes.js';
import { jsonFormatOnly } from './query-params.js';
import { uploadRoutes } from './upload-routes.js';

export interface AppDeps {
  registry: AgentRegistry;
  jobs: JobStore;
  jobService: JobService;
  /** Every change of a job, streamed by `/jobs/{id}/events`. */
  updates: JobUpdates;
  /** Interval of the keep-alive comments on event streams (default 15 s). */
  heartbeatMs?: number;
  logger: Logger;
  /** Public URL of the API when it is served behind a proxy; links use the request's origin otherwise. */
  baseUrl?: string;
  /** Largest accepted request body (default 1 MiB). */
  maxBodyBytes?: number;
  /** Output files uploaded by agents, and the per-job tokens that allow the uploads. */
  results: ResultFiles;
  uploadTokens: UploadTokens;
  /** Largest accepted output file (default 1 GiB). */
  maxUploadBytes?: number;
  /** Whether the server can run jobs now (its XMPP link is up); answers `/readyz`. */
  readiness: () => boolean;
}

/** The OGC API – Processes application; the caller decides where it listens. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  const router = new Router();
  const body = jsonBody(deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);

  landingRoutes(router, deps.readiness);
  openApiRoutes(router, deps.registry);
  apiDocsRoutes(router);
  processRoutes(router, deps.registry);
  executionRoutes(router, { registry: deps.registry, jobService: deps.jobService, jsonBody: body });
  jobRoutes(router, deps);
  outputRoutes(router, deps);
  uploadRoutes(router, { ...deps, maxUploadBytes: deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES });
  jobEventsRoutes(router, deps);
  adminRoutes(router, deps.registry, deps.jobService);

  app.on('error', responseErrorLogger(deps.logger));
  app.use(errorMiddleware(deps.logger));
  app.use(publicBase(deps.baseUrl));
  app.use(jsonFormatOnly());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

import { Router } from '@koa/router';
import { AddressAllowlist } from '../../net/address-guard.js';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { JobService } from '../jobs/job-service.js';
import { DEFAULT_LIMITS, type Limits } from '../jobs/owner-limits.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { AgentAccountsApi } from '../store/agent-accounts.js';
import type { AuditStoreApi } from '../store/audit-store.js';
import { DEFAULT_MAX_UPLOAD_BYTES, type ResultFiles } from '../store/result-files.js';
import type { UploadTokenStore } from '../store/upload-tokens.js';
import type { UserStoreApi } from '../store/user-store.js';
import { adminAuditRoutes } from './admin-audit-routes.js';
import { adminEventsRoutes, type AdminEventsDeps } from './admin-events-routes.js';
import { adminJobsRoutes } from './admin-jobs-routes.js';
import { adminPoolsRoutes } from './admin-pools-routes.js';
import { adminRoutes, type RegistryChanges } from './admin-routes.js';
import { adminUiRoutes } from './admin-ui-routes.js';
import { adminUsersRoutes } from './admin-users-routes.js';
import { agentPackageRoutes } from './agent-package-routes.js';
import { assetRoutes } from './html/asset-routes.js';
import { apiDocsRoutes } from './api-docs-routes.js';
import { auditRefusal } from './audit-trail.js';
import { authentication, DEFAULT_ACCESS, type AccessPolicy } from './auth.js';
import { errorMiddleware, responseErrorLogger } from './error-middleware.js';
import { executionRoutes } from './execution-routes.js';
import { jobEventsRoutes } from './job-events-routes.js';
import { jobRoutes } from './job-routes.js';
import { DEFAULT_MAX_BODY_BYTES, jsonBody } from './json-body.js';
import { landingRoutes } from './landing-routes.js';
import { publicBase } from './links.js';
import { metricsRoutes } from './metrics-routes.js';
import { openApiRoutes } from './openapi.js';
import { outputRoutes } from './output-routes.js';
import { processRoutes } from './process-routes.js';
import { responseFormat } from './query-params.js';
import { uploadRoutes } from './upload-routes.js';

export interface AppDeps extends AdminEventsDeps {
  registry: AgentRegistry;
  /** How an admin's changes of the registry are carried out (default: on `registry` itself). */
  registryChanges?: RegistryChanges;
  /** Jobs: reading them, and the lifecycle's verbs (submit, dismiss, kill, wait, follow). */
  jobs: JobService;
  /** Interval of the keep-alive comments on event streams (default 15 s). */
  heartbeatMs?: number;
  logger: Logger;
  /** Public URL of the API when it is served behind a proxy; links use the origin chosen by `publicBase` otherwise. */
  baseUrl?: string;
  /** `host[:port]` names whose requests get links on their own origin; others get the listen address. */
  publicHosts?: string[];
  /** Largest accepted request body (default 1 MiB). */
  maxBodyBytes?: number;
  /** Output files uploaded by agents, file inputs sent inline, and the per-job tokens with which agents move them. */
  results: ResultFiles;
  inputs: ResultFiles;
  uploadTokens: UploadTokenStore;
  /** Largest accepted output file, and file input sent inline (default 1 GiB). */
  maxUploadBytes?: number;
  /** Whether the server can run jobs now (its XMPP link is up); answers `/readyz`. */
  readiness: () => boolean;
  /** Users and their bearer tokens, by which requests are authenticated. */
  users: UserStoreApi;
  /** Which requests may come without a token (default: reading yes, executing no). */
  access?: AccessPolicy;
  /** Limits of users without overrides (default DEFAULT_LIMITS), shown by the admin API. */
  defaultLimits?: Limits;
  /** Called after an admin changed a user's limits. */
  limitsChanged?: () => void;
  /** Prometheus metrics served at `/metrics`. */
  metrics: Registry;
  /** Where callbacks may go besides public addresses (`--callback-allow`; default none). */
  callbackAllow?: AddressAllowlist;
  /** The accounts provisioned as agents, listed by the admin API. */
  agentAccounts: Pick<AgentAccountsApi, 'list' | 'revoke'>;
  /** Deletes an agent's XMPP account and closes its sessions, where Outpost runs the XMPP server. */
  removeXmppAccount?: (jid: string) => Promise<void>;
  /** Where admin actions and refused authentications are recorded, and read back by `/admin/audit`. */
  audit: Pick<AuditStoreApi, 'record' | 'refusedAuthentication' | 'list'>;
}

/** Every route of the API; `createApp` serves them, and the API definition is checked against them. */
export function apiRouter(deps: AppDeps): Router {
  const router = new Router();
  const body = jsonBody(deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);

  landingRoutes(router, deps.readiness);
  metricsRoutes(router, deps.metrics);
  openApiRoutes(router, deps.registry);
  apiDocsRoutes(router);
  agentPackageRoutes(router);
  processRoutes(router, deps.registry);
  // An execute request may carry files up to the upload limit, base64-encoded (docs/decisions.md, File inputs).
  const filesBody = jsonBody((deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) + Math.ceil((deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES) / 3) * 4);
  executionRoutes(router, { registry: deps.registry, jobs: deps.jobs, results: deps.results, jsonBody: body, filesBody, callbackAllow: deps.callbackAllow ?? new AddressAllowlist() });
  jobRoutes(router, deps);
  outputRoutes(router, deps);
  uploadRoutes(router, { ...deps, maxUploadBytes: deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES });
  jobEventsRoutes(router, deps);
  adminRoutes(router, deps);
  adminJobsRoutes(router, deps);
  adminEventsRoutes(router, deps);
  adminPoolsRoutes(router, {
    registry: deps.registry,
    ...(deps.registryChanges && { registryChanges: deps.registryChanges }),
    agentAccounts: deps.agentAccounts,
    jsonBody: body,
    audit: deps.audit,
    ...(deps.removeXmppAccount && { removeXmppAccount: deps.removeXmppAccount }),
  });
  adminAuditRoutes(router, deps);
  adminUiRoutes(router);
  assetRoutes(router);
  adminUsersRoutes(router, {
    users: deps.users,
    jsonBody: body,
    defaultLimits: deps.defaultLimits ?? DEFAULT_LIMITS,
    limitsChanged: deps.limitsChanged ?? (() => undefined),
    audit: deps.audit,
  });
  return router;
}

/** The OGC API – Processes application; the caller decides where it listens. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  const router = apiRouter(deps);

  app.on('error', responseErrorLogger(deps.logger));
  app.use(errorMiddleware(deps.logger));
  app.use(publicBase(deps.baseUrl, deps.publicHosts));
  app.use(authentication(deps.users, deps.access ?? DEFAULT_ACCESS, (ctx, reason) => auditRefusal(ctx, deps.audit, reason, deps.logger)));
  app.use(responseFormat());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

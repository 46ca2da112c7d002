import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_KEEP_JOBS_SECONDS, type OrchestratorConfig } from './config.js';
import { watchDispatcherLink } from './cluster/dispatcher-link-watch.js';
import { openCluster, type OrchestratorCluster } from './cluster/start-cluster.js';
import { createApp } from './http/create-app.js';
import { AckBatcher } from './jobs/ack-batcher.js';
import { AgentEvents } from './jobs/agent-events.js';
import { DEFAULT_JOB_DEADLINE_SECONDS } from './jobs/job-lifecycle-options.js';
import { JobLifecycle } from './jobs/job-lifecycle.js';
import type { Backoff } from '../xmpp/backoff.js';
import { CallbackSender } from './callbacks/callback-sender.js';
import { AddressAllowlist } from '../net/address-guard.js';
import { logJobEvents } from './jobs/job-log.js';
import { startRetentionSweep, watchProcessKeeps } from './jobs/retention-sweep.js';
import { createMetrics } from './jobs/job-metrics.js';
import { jobService } from './jobs/job-service.js';
import type { JobUpdates } from './jobs/job-updates.js';
import { ownerLimits } from './jobs/owner-limits.js';
import { agentPools } from './registry/agent-admission.js';
import { AgentRegistry } from './registry/agent-registry.js';
import { feedRegistry } from './registry/registry-feed.js';
import type { JobStore } from './store/job-store.js';
import type { JobStoreApi } from './store/job-store-api.js';
import type { AgentAccountsApi } from './store/agent-accounts.js';
import { openStores } from './store/open-stores.js';
import type { UserStoreApi } from './store/user-store.js';
import { BatchedWrites } from './store/batched-writes.js';
import { newUploadToken } from './store/upload-tokens.js';
import { DEFAULT_MAX_UPLOAD_BYTES, ResultFiles } from './store/result-files.js';
import { storeInlineFiles } from './jobs/file-inputs.js';
import { watchAgentLiveness } from './registry/agent-liveness.js';
import { ComponentLink } from './xmpp/component-link.js';
import type { StanzaLimit } from './xmpp/invalid-stanza-limiter.js';

export interface RunningOrchestrator {
  url: string;
  registry: AgentRegistry;
  /** Where jobs change: submit, stop, and the events of every change. */
  lifecycle: JobLifecycle;
  /** The jobs as stored, read synchronously: only when they are kept in SQLite. */
  jobStore: JobStore;
  /** The jobs as stored, wherever that is. */
  jobs: JobStoreApi;
  /** Every change of a job, as the event streams see them. */
  updates: JobUpdates;
  users: UserStoreApi;
  /** The accounts provisioned as agents, with their pools. */
  agentAccounts: AgentAccountsApi;
  link: ComponentLink;
  /** Stops taking requests, closes the XMPP link and the database. Idempotent. */
  stop(): Promise<void>;
}

/** Tuning that has no flag; tests make its windows short. */
export interface OrchestratorTuning {
  invalidStanzaLimit?: StanzaLimit;
  /** Waits between attempts of a failed callback delivery (default 1 s doubling up to 60 s). */
  callbackBackoff?: Backoff;
  /** Time between retention sweeps, and jobs removed per batch (default 60 s and 200). */
  retention?: { intervalMs?: number; batchSize?: number };
  /**
   * With --database, the dispatcher lease or the bus failed (docs/scale-out.md §4, fencing). By
   * default the process exits with FENCED_EXIT_CODE, for its supervisor to start it again as a follower.
   */
  onClusterLost?: (reason: string) => void;
  /** How long an ack to an agent that takes batches waits for others (default ACK_WINDOW_MS). */
  ackWindowMs?: number;
}

/** The exit code of an orchestrator that lost its connection to the cluster: EX_TEMPFAIL, restarted by its supervisor. */
export const FENCED_EXIT_CODE = 75;
/** How often at most the dispatcher writes its registry for the other orchestrators. */
const REGISTRY_BATCH_MS = 200;
/** How long a follower waits for the dispatcher to carry out a kill (whose own wait for the agent is 15 s) or another request. */
const CLUSTER_REQUEST_TIMEOUT_MS = 20_000;

/** What the orchestrator may do on an XMPP server that Outpost itself runs (the embedded Prosody). */
export interface EmbeddedServer {
  /** Deletes an agent's XMPP account and closes its sessions. */
  removeAccount(jid: string): Promise<void>;
}

/** Composition root of the orchestrator: store, XMPP component, registry, jobs and HTTP. */
export async function startOrchestrator(
  config: OrchestratorConfig,
  logger: Logger,
  tuning: OrchestratorTuning = {},
  embedded?: EmbeddedServer,
): Promise<RunningOrchestrator> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  // Names this orchestrator among those sharing a database (docs/scale-out.md §3); random too, since
  // a container restarted on the same host name may get the same process id.
  const instance = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  const stores = await openStores({ ...config, instance }, logger);
  const { jobs, users, audit, agentAccounts, processPools, drainedAccounts } = stores;
  const { jobStore, uploadTokens } = jobs;
  const defaultLimits = { maxRunning: config.maxRunning, maxWaiting: config.maxWaiting };
  const limits = ownerLimits(users, defaultLimits);
  const poolOf = agentPools(config, agentAccounts);
  const logStoreError = (what: string) => (err: Error) => logger.error({ err: err.message }, `${what} could not be stored`);
  const registry = new AgentRegistry({
    claims: await processPools.all(),
    onClaim: (ids, pool) => void processPools.set(ids, pool).catch(logStoreError('the pool of new processes')),
    drained: await drainedAccounts.all(),
    onDrained: (account, drained) => void drainedAccounts.set(account, drained).catch(logStoreError('a drained account')),
  });
  processPools.onStored((claims) => registry.takeStoredClaims(claims));
  drainedAccounts.onStored((account, drained) => registry.takeStoredDrain(account, drained));
  const link = new ComponentLink({
    service: config.xmppServer,
    domain: config.componentJid,
    secret: config.componentSecret,
    // Looked up per stanza, so an account revoked by another process stops acting at once.
    isAllowed: (jid) => {
      if (poolOf(jid) !== undefined) return true;
      for (const agent of registry.agentsNamed(jid)) registry.remove(agent.jid);
      return false;
    },
    logger,
    ...tuning,
  });
  const filesDir = config.filesDir ?? config.dataDir;
  const results = new ResultFiles(path.join(filesDir, 'results'));
  const inputs = new ResultFiles(path.join(filesDir, 'inputs'));
  // Jobs are dispatched once the XMPP link is up; by then the server listens and `publicUrl` is set.
  const uploadFor = (jobId: string) => ({ url: `${publicUrl}/uploads/${jobId}`, token: newUploadToken() });
  const lifecycleStore = new BatchedWrites(jobStore);
  const inputFiles = {
    store: (jobId: string, files: Parameters<typeof storeInlineFiles>[2]) => storeInlineFiles(inputs, jobId, files, config.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES),
    remove: (jobId: string) => inputs.remove(jobId),
  };
  const acks = new AckBatcher({
    send: (jid, message) => link.send(jid, message),
    takesBatches: (jid) => registry.agent(jid)?.load.features?.includes('acks') ?? false,
    windowMs: tuning.ackWindowMs,
  });
  registry.on('agent-offline', (jid) => acks.forget(jid));
  const lifecycle = new JobLifecycle({
    jobStore: lifecycleStore,
    registry,
    send: acks.send,
    uploadFor,
    removeFiles: (jobId) => results.remove(jobId),
    inputFiles: { ...inputFiles, url: (jobId) => `${publicUrl}/inputs/${jobId}` },
    limits,
    graceMs: config.agentGrace * 1000,
    deadlineMs: (config.jobDeadline ?? DEFAULT_JOB_DEADLINE_SECONDS) * 1000,
    logger,
  });
  logJobEvents(lifecycle.events, logger);
  const agentEvents = new AgentEvents(lifecycle);

  feedRegistry({ link, registry, logger, poolOf, remember: (jid) => void stores.agents.remember(jid, new Date()).catch(logStoreError('an agent seen')), hasJobs: (jid) => lifecycle.hasJobsOn(jid) });
  link.on('message', (jid, message) => {
    // Whatever one agent sends, a fault in handling it must not take the service down.
    agentEvents.handle(jid, message).catch((err: Error) => {
      logger.error({ from: jid, type: message.type, err: err.message }, 'message from agent could not be handled');
    });
  });
  registry.on('changed', () => lifecycle.dispatchWaiting());
  registry.on('agent-offline', (jid) => {
    lifecycle.agentLost(jid).catch((err: Error) => logger.error({ agent: jid, err: err.message }, 'jobs of a lost agent could not be looked up'));
  });
  // Without the link, who is online is unknown; agents announce again when it is back.
  link.on('offline', () => registry.clear());
  link.on('bounce', (jid) => registry.remove(jid));
  // After a restart, agents we knew are asked to announce themselves and the jobs they run.
  link.on('online', () => {
    stores.agents.known().then(
      (known) => known.forEach(({ jid }) => link.send(jid, { v: 1, type: 'catalog-request' }).catch(() => undefined)),
      (err: Error) => logger.error({ err: err.message }, 'the agents seen before could not be read'),
    );
  });
  const callbackAllow = AddressAllowlist.parse(config.callbackAllow);
  const callbacks = new CallbackSender({ store: stores.callbacks, allow: callbackAllow, publicBase: () => publicUrl, logger, ...(tuning.callbackBackoff && { backoff: tuning.callbackBackoff }) });
  lifecycle.events.listen(callbacks.onJobEvent);
  const keepMs = (config.keepJobs ?? DEFAULT_KEEP_JOBS_SECONDS) * 1000;
  const dispatchingStops: (() => unknown)[] = [];
  const fenced =
    tuning.onClusterLost ??
    ((reason: string) => {
      logger.fatal({ reason }, 'stopping at once: another orchestrator may dispatch now');
      process.exit(FENCED_EXIT_CODE);
    });
  /** What only the instance that dispatches does; `known` are agents the previous dispatcher of a cluster knew. */
  const startDispatching = async (known: string[] = []) => {
    await Promise.all(known.map((jid) => stores.agents.remember(jid, new Date())));
    dispatchingStops.push(
      ...(cluster ? [watchDispatcherLink(link, (config.linkGrace ?? 10) * 1000, fenced)] : []),
      watchAgentLiveness({ link, registry, intervalMs: config.pingInterval * 1000, logger }),
      watchProcessKeeps(registry, jobs.processKeeps),
      startRetentionSweep({ keepMs, expireJobs: (keep, limit) => lifecycle.expire(keep, limit), trimAudit: (before, limit) => audit.removeOlderThan(before, limit), logger, ...tuning.retention }),
    );
    await link.start();
    // Grace periods for jobs of the previous run start only now that agents can reach us.
    await lifecycle.resume();
    // Deliveries kept from before a restart go out now that the public URL is known.
    callbacks.start();
  };
  const cluster: OrchestratorCluster | undefined =
    config.database === undefined || !jobs.postgres
      ? undefined
      : await openCluster({
          url: config.database,
          db: jobs.postgres,
          instance,
          logger,
          registry,
          lifecycle,
          store: lifecycleStore,
          inputFiles,
          limits,
          requestTimeoutMs: CLUSTER_REQUEST_TIMEOUT_MS,
          leaseRetryMs: (config.leaseRetry ?? 1) * 1000,
          registryBatchMs: REGISTRY_BATCH_MS,
          onLost: fenced,
        }).catch(async (error: unknown) => {
          await stores.close();
          throw error;
        });

  const app = createApp({
    registry,
    jobs: cluster?.jobs ?? jobService(jobStore, lifecycle),
    jobEvents: cluster?.events ?? lifecycle.events,
    ...(cluster && { registryChanges: cluster.registryChanges }),
    logger,
    baseUrl: config.publicUrl,
    publicHosts: config.publicHosts?.split(','),
    results,
    inputs,
    uploadTokens,
    maxUploadBytes: config.maxUploadBytes,
    readiness: () => (cluster && !cluster.dispatching() ? true : link.online),
    users,
    access: { anonymousRead: config.anonymousRead, anonymousExecute: config.anonymousExecute, metricsOpen: config.metricsOpen },
    defaultLimits,
    limitsChanged: () => (cluster ? cluster.limitsChanged() : lifecycle.dispatchWaiting()),
    metrics: createMetrics(lifecycle.events, registry, () => lifecycle.queued()),
    agentAccounts,
    ...(embedded && { removeXmppAccount: (jid: string) => embedded.removeAccount(jid) }),
    callbackAllow,
    audit,
  });
  // With a certificate, HTTPS: upload tokens, outputs and user tokens then cross the network encrypted (docs/security.md, the network).
  const tls = config.tlsCert && config.tlsKey ? { cert: await readFile(config.tlsCert), key: await readFile(config.tlsKey) } : undefined;
  const server = tls ? https.createServer(tls, app.callback()) : http.createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.httpPort, config.host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  const url = `${tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const publicUrl = config.publicUrl ?? url;
  if (cluster) await cluster.start(startDispatching);
  else await startDispatching();
  logger.info({ url }, 'orchestrator ready');

  let stopping: Promise<void> | undefined;
  return {
    url,
    registry,
    lifecycle,
    get jobStore(): JobStore {
      if (!jobs.sqlite) throw new Error('jobs are kept in PostgreSQL (--database): read them through `jobs`');
      return jobs.sqlite.rows;
    },
    jobs: jobStore,
    updates: lifecycle.updates,
    users,
    agentAccounts,
    link,
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all(dispatchingStops.map((stop) => stop()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await acks.stop();
        await link.stop();
        await callbacks.stop();
        lifecycle.close();
        await lifecycleStore.settled();
        // The lease goes last: the next dispatcher reads the queue after this one's writes.
        await cluster?.stop();
        await stores.close();
      })()),
  };
}

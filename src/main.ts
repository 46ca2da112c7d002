import http from 'node:http';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { OrchestratorConfig } from './config.js';
import { createApp } from './http/create-app.js';
import { AgentEvents } from './jobs/agent-events.js';
import { Dispatcher } from './jobs/dispatcher.js';
import { JobManager } from './jobs/job-manager.js';
import { JobUpdates } from './jobs/job-updates.js';
import { createMetrics } from './jobs/job-metrics.js';
import { ownerLimits } from './jobs/owner-limits.js';
import { agentPools } from './registry/agent-admission.js';
import { AgentRegistry } from './registry/agent-registry.js';
import { feedRegistry } from './registry/registry-feed.js';
import { AgentAccounts } from './store/agent-accounts.js';
import { AgentStore } from './store/agent-store.js';
import { openDatabase } from './store/database.js';
import { JobStore } from './store/job-store.js';
import { ProcessPools } from './store/process-pools.js';
import { ResultFiles } from './store/result-files.js';
import { UploadTokens } from './store/upload-tokens.js';
import { UserStore } from './store/user-store.js';
import { watchAgentLiveness } from './registry/agent-liveness.js';
import { ComponentLink } from './xmpp/component-link.js';
import type { StanzaLimit } from './xmpp/invalid-stanza-limiter.js';

export interface RunningOrchestrator {
  url: string;
  registry: AgentRegistry;
  jobs: JobManager;
  store: JobStore;
  /** Every change of a job, as the event streams see them. */
  updates: JobUpdates;
  users: UserStore;
  /** The accounts provisioned as agents, with their pools. */
  agentAccounts: AgentAccounts;
  link: ComponentLink;
  /** Stops taking requests, closes the XMPP link and the database. Idempotent. */
  stop(): Promise<void>;
}

/** Tuning that has no flag; tests make its windows short. */
export interface OrchestratorTuning {
  invalidStanzaLimit?: StanzaLimit;
}

/** Composition root of the orchestrator: store, XMPP component, registry, jobs and HTTP. */
export async function startOrchestrator(config: OrchestratorConfig, logger: Logger, tuning: OrchestratorTuning = {}): Promise<RunningOrchestrator> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(path.join(config.dataDir, 'outpost.db'));
  const store = new JobStore(db);
  const agentStore = new AgentStore(db);
  const users = new UserStore(db);
  const defaultLimits = { maxRunning: config.maxRunning, maxWaiting: config.maxWaiting };
  const limits = ownerLimits(users, defaultLimits);
  const agentAccounts = new AgentAccounts(db);
  const processPools = new ProcessPools(db);
  const poolOf = agentPools(config, agentAccounts);
  const registry = new AgentRegistry({ claims: processPools.all(), onClaim: (id, pool) => processPools.set(id, pool) });
  const updates = new JobUpdates();
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
  const send = link.send.bind(link);
  const results = new ResultFiles(path.join(config.dataDir, 'results'));
  const removeFiles = (jobId: string) => results.remove(jobId);
  const uploadTokens = new UploadTokens(db);
  // Jobs are dispatched once the XMPP link is up; by then the server listens and `publicUrl` is set.
  const uploadFor = (jobId: string) => ({ url: `${publicUrl}/uploads/${jobId}`, token: uploadTokens.issue(jobId) });
  const dispatcher = new Dispatcher({
    registry,
    send,
    load: (id) => store.get(id),
    assigned: (id, agent) => store.setAgent(id, agent),
    uploadFor,
    undeliverable: (id, reason) => events.undeliverable(id, reason),
    runningLimit: (owner) => limits(owner).maxRunning,
    logger,
  });
  const manager = new JobManager({ registry, store, dispatcher, updates, send, removeFiles, limits, logger });
  const events = new AgentEvents({ store, dispatcher, updates, manager, send, graceMs: config.agentGrace * 1000, removeFiles, logger });

  feedRegistry({ link, registry, logger, poolOf, remember: (jid) => agentStore.remember(jid, new Date()) });
  link.on('message', (jid, message) => {
    // Whatever one agent sends, a fault in handling it must not take the service down.
    try {
      events.handle(jid, message);
    } catch (err) {
      logger.error({ from: jid, type: message.type, err: (err as Error).message }, 'message from agent could not be handled');
    }
  });
  registry.on('changed', () => dispatcher.dispatchWaiting());
  registry.on('agent-offline', (jid) => events.agentLost(jid));
  // Without the link, who is online is unknown; agents announce again when it is back.
  link.on('offline', () => registry.clear());
  link.on('bounce', (jid) => registry.remove(jid));
  // After a restart, agents we knew are asked to announce themselves and the jobs they run.
  link.on('online', () => {
    for (const { jid } of agentStore.known()) link.send(jid, { v: 1, type: 'catalog-request' }).catch(() => undefined);
  });
  const stopLiveness = watchAgentLiveness({ link, registry, intervalMs: config.pingInterval * 1000, logger });

  const app = createApp({
    registry,
    jobs: store,
    jobService: manager,
    updates,
    logger,
    baseUrl: config.publicUrl,
    publicHosts: config.publicHosts?.split(','),
    results,
    uploadTokens,
    maxUploadBytes: config.maxUploadBytes,
    readiness: () => link.online,
    users,
    access: { anonymousRead: config.anonymousRead, anonymousExecute: config.anonymousExecute, metricsOpen: config.metricsOpen },
    defaultLimits,
    limitsChanged: () => dispatcher.dispatchWaiting(),
    metrics: createMetrics(updates, registry, () => dispatcher.queued()),
    agentAccounts,
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.httpPort, config.host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const publicUrl = config.publicUrl ?? url;
  await link.start();
  // Grace periods for jobs of the previous run start only now that agents can reach us.
  events.resume(store.unfinished());
  logger.info({ url }, 'orchestrator ready');

  let stopping: Promise<void> | undefined;
  return {
    url,
    registry,
    jobs: manager,
    store,
    updates,
    users,
    agentAccounts,
    link,
    stop: () =>
      (stopping ??= (async () => {
        stopLiveness();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await link.stop();
        events.stop();
        db.close();
      })()),
  };
}

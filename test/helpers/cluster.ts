import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_LIMITS } from '../../src/jobs/owner-limits.js';
import { startOrchestrator, type OrchestratorTuning, type RunningOrchestrator } from '../../src/main.js';
import { startAgent, type RunningAgent } from '../../agent/main.js';
import type { FetchLimits } from '../../agent/jobs/fetch-inputs.js';
import { certificateFingerprint, ensureDevCertificate, type TlsFiles } from '../../dev/tls-certificate.js';
import { testCallers, type TestCallers } from './api.js';
import { startTestProsody, TEST_DOMAIN, type TestProsody, type TestXmppServer } from './prosody.js';
import { testLogger } from './logger.js';

export interface TestAgent extends RunningAgent {
  jid: string;
  servicesDir: string;
  workDir: string;
}

/** The pool of agents started by `addAgent` unless another is given. */
export const TEST_POOL = 'agents';

/** The API is called as TEST_USER (`api`) or TEST_ADMIN (`adminApi`). */
export interface Cluster<Server extends TestXmppServer = TestProsody> extends TestCallers {
  server: Server;
  orchestrator: RunningOrchestrator;
  dataDir: string;
  /** With `tls`: the certificate of the Prosody's STARTTLS and the orchestrator's HTTPS, and its fingerprint. */
  tls?: TlsFiles & { fingerprint: string };
  /** Starts a real agent (its own XMPP connection, real child processes) on a services folder. */
  addAgent(name: string, servicesDir: string, options?: { slots?: number; killGraceMs?: number; workDir?: string; pool?: string; fetchLimits?: FetchLimits }): Promise<TestAgent>;
  /** An XMPP account provisioned as an agent in `pool` (default: its name), for raw protocol tests. */
  addAccount(name: string, pool?: string): Promise<{ jid: string; password: string }>;
  /** Stops the orchestrator only, keeping its data directory, and starts it again after `downMs` and `whileDown`. */
  restartOrchestrator(downMs?: number, whileDown?: () => Promise<void>): Promise<RunningOrchestrator>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  agentGrace?: number;
  pingInterval?: number;
  /** `--job-deadline` (default: the orchestrator's). */
  jobDeadline?: number;
  maxUploadBytes?: number;
  /** `--keep-jobs`, in seconds. */
  keepJobs?: number;
  /** The orchestrator's logger (default: testLogger). */
  logger?: Logger;
  tuning?: OrchestratorTuning;
  /** `--callback-allow`. */
  callbackAllow?: string;
  /** STARTTLS required on the client port, HTTPS, and agents that pin the certificate. */
  tls?: boolean;
  /** The orchestrator's data directory (default: a fresh temp directory); removed by `stop`. */
  dataDir?: string;
  /** The address Prosody's client port listens on (default: loopback). */
  prosodyHost?: string;
}

/** Starts the cluster's XMPP server, with STARTTLS on this certificate when given one. */
export type StartXmppServer<Server extends TestXmppServer> = (tls: TlsFiles | undefined) => Promise<Server>;

/** A private Prosody (or the server `startServer` starts), an orchestrator on a temp data directory, and agents on demand. */
export async function startCluster(options?: ClusterOptions): Promise<Cluster>;
export async function startCluster<Server extends TestXmppServer>(options: ClusterOptions, startServer: StartXmppServer<Server>): Promise<Cluster<Server>>;
export async function startCluster(options: ClusterOptions = {}, startServer?: StartXmppServer<TestXmppServer>): Promise<Cluster<TestXmppServer>> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'outpost-data-')));
  const files = options.tls ? await ensureDevCertificate(dataDir, [TEST_DOMAIN, 'localhost', '127.0.0.1']) : undefined;
  const tls = files && { ...files, fingerprint: certificateFingerprint(files.certFile) };
  const server = startServer
    ? await startServer(files)
    : await startTestProsody({ ...(files ? { tls: files } : {}), ...(options.prosodyHost ? { host: options.prosodyHost } : {}) });
  const agents: TestAgent[] = [];
  const fabric = server.fabric;
  const config = {
    host: '127.0.0.1',
    httpPort: 0,
    dataDir,
    logLevel: 'silent',
    agentGrace: options.agentGrace ?? 30,
    pingInterval: options.pingInterval ?? 15,
    jobDeadline: options.jobDeadline,
    maxUploadBytes: options.maxUploadBytes,
    keepJobs: options.keepJobs,
    anonymousRead: true,
    anonymousExecute: false,
    ...DEFAULT_LIMITS,
    xmppServer: fabric.componentService,
    componentJid: fabric.componentDomain,
    componentSecret: fabric.componentSecret,
    callbackAllow: options.callbackAllow,
    ...(tls ? { tlsCert: tls.certFile, tlsKey: tls.keyFile } : {}),
  };
  const orchestratorLogger = options.logger ?? testLogger;
  const orchestrator = await startOrchestrator(config, orchestratorLogger, options.tuning);
  const cluster: Cluster<TestXmppServer> = {
    server,
    dataDir,
    orchestrator,
    ...(tls ? { tls } : {}),
    ...(await testCallers(orchestrator.users)),
    async addAccount(name, pool = name) {
      const account = await server.addAccount(name);
      await cluster.orchestrator.agentAccounts.add(account.jid, pool);
      return account;
    },
    async addAgent(name, servicesDir, agentOptions = {}) {
      // Test agents form one fleet unless told otherwise, so they share the processes they offer.
      const { jid, password } = await cluster.addAccount(name, agentOptions.pool ?? TEST_POOL);
      const workDir = agentOptions.workDir ?? (await mkdtemp(path.join(os.tmpdir(), `outpost-agent-${name}-`)));
      const online = new Promise<void>((resolve) => {
        const check = () => {
          const entry = cluster.orchestrator.registry.agents().find((a) => a.jid.startsWith(`${jid}/`));
          if (entry && entry.catalogHash === entry.load.catalog) {
            cluster.orchestrator.registry.off('changed', check);
            resolve();
          }
        };
        cluster.orchestrator.registry.on('changed', check);
      });
      const running = await startAgent(
        {
          servers: [fabric.clientService],
          jid: `${jid}/agent`,
          password,
          services: servicesDir,
          slots: agentOptions.slots ?? 2,
          workDir,
          orchestrator: fabric.componentDomain,
          logLevel: 'silent',
          killGraceMs: agentOptions.killGraceMs ?? 1000,
          ...(agentOptions.fetchLimits && { fetchLimits: agentOptions.fetchLimits }),
          ...(tls ? { serverTrust: { fingerprints: [tls.fingerprint.replace(/:/g, '')] } } : {}),
        },
        testLogger,
      );
      await online;
      const agent = { ...running, jid: `${jid}/agent`, servicesDir, workDir };
      agents.push(agent);
      return agent;
    },
    async restartOrchestrator(downMs = 0, whileDown) {
      await cluster.orchestrator.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await whileDown?.();
      cluster.orchestrator = await startOrchestrator(config, orchestratorLogger, options.tuning);
      return cluster.orchestrator;
    },
    async stop() {
      await Promise.all(agents.map((a) => a.stop(0)));
      await cluster.orchestrator.stop();
      await server.stop();
      await Promise.all([dataDir, ...agents.map((a) => a.workDir)].map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
  return cluster;
}

/** Submits an asynchronous job as TEST_USER; returns its id once the orchestrator has answered 201. */
export async function submitJob(cluster: Cluster<TestXmppServer>, process: string, inputs: Record<string, unknown> = {}): Promise<string> {
  const response = await cluster.api(`${cluster.orchestrator.url}/processes/${process}/execution`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', Prefer: 'respond-async' },
    body: JSON.stringify({ inputs }),
  });
  if (response.status !== 201) throw new Error(`execution of ${process} answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { jobID: string }).jobID;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 2000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

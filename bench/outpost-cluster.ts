import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AgentAccounts } from '../src/store/agent-accounts.js';
import { openDatabase } from '../src/store/database.js';
import { pino } from 'pino';
import { PrivateProsody } from '../dev/private-prosody.js';
import { smallEnv, startProcess, type StartedProcess } from './child-process.js';
import type { CleanupStack } from './cleanup.js';
import { installAgentPackage } from './installed-agent.js';
import { childPidsMatching } from './process-cpu.js';
import { CONFIG_ENV, OrchestratorClient, type BenchOrchestratorConfig } from './orchestrator-ipc.js';
import { distBench, repoRoot } from './paths.js';

export const BENCH_PROCESS = 'noop';
const DOMAIN = 'bench.outpost';

export interface ClusterOptions {
  agents: number;
  slotsPerAgent: number;
  cpuProfileDir: string | undefined;
}

/** An XMPP server the bench starts for itself: the private Prosody or ejabberd. */
export interface BenchXmppServer {
  clientService: string;
  registerAccount(username: string, password: string): Promise<void>;
}

export interface BenchAgentsOptions extends ClusterOptions {
  root: string;
  server: BenchXmppServer;
  domain: string;
  /** The folder of service files every agent offers. */
  services: string;
}

/**
 * `agents` agents named `bench-agent-N`, each with an account of its own on `server`, run as users
 * run them: from the package the orchestrator serves, installed offline. Stopped through `stack`.
 */
export async function startBenchAgents(options: BenchAgentsOptions, stack: CleanupStack): Promise<{ agents: StartedProcess[]; agentWorkDirs: Record<string, string> }> {
  const agentBin = await installAgentPackage(path.join(options.root, 'agent-install'));
  const agents: StartedProcess[] = [];
  const agentWorkDirs: Record<string, string> = {};
  for (let i = 1; i <= options.agents; i++) {
    const name = `bench-agent-${i}`;
    const password = randomBytes(12).toString('base64url');
    await options.server.registerAccount(name, password);
    const workDir = path.join(options.root, name);
    await mkdir(workDir);
    agentWorkDirs[name] = workDir;
    const agent = startProcess(
      name,
      process.execPath,
      [
        ...profileArgs(options.cpuProfileDir, name),
        agentBin,
        ...['--server', options.server.clientService, '--jid', `${name}@${options.domain}/agent`, '--services', options.services],
        ...['--work-dir', workDir, '--slots', String(options.slotsPerAgent), '--log-level', 'warn'],
      ],
      { env: smallEnv({ OUTPOST_AGENT_PASSWORD: password }) },
    );
    stack.add(name, () => agent.stop(10_000));
    agents.push(agent);
  }
  return { agents, agentWorkDirs };
}

/** The bench agents' accounts, recorded in one pool as `outpost agent add --pool bench` would. */
export const benchAccounts = (count: number, domain: string) => Array.from({ length: count }, (_, i) => ({ jid: `bench-agent-${i + 1}@${domain}`, pool: 'bench' }));

export interface OutpostCluster {
  orchestrator: OrchestratorClient;
  agents: StartedProcess[];
  /** The orchestrator's data directory (its SQLite database and result files). */
  dataDir: string;
  /** Each agent's work directory, by agent name. */
  agentWorkDirs: Record<string, string>;
  /** Process trees whose CPU use is reported, by part. */
  cpuParts: Record<string, (number | 'self')[]>;
  /** Processes whose memory is reported, each on its own: the orchestrator and each agent (without its jobs). */
  memoryParts: Record<string, number[]>;
}

/** A temporary folder for one stack, removed through `stack`, with the folder of the `noop` service file. */
export async function benchFolder(stack: CleanupStack): Promise<{ root: string; services: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-'));
  stack.add('temp dir', () => rm(root, { recursive: true, force: true }));
  const services = path.join(root, 'services');
  await mkdir(services);
  await copyFile(path.join(repoRoot, 'services.d', `${BENCH_PROCESS}.properties`), path.join(services, `${BENCH_PROCESS}.properties`));
  return { root, services };
}

export const profileArgs = (dir: string | undefined, name: string) => (dir ? ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${name}.cpuprofile`] : []);
/** V8's sampling heap profile, written when the process exits: what is still allocated then, by allocating function. */
const heapProfileArgs = (dir: string | undefined, name: string) => (dir ? ['--heap-prof', '--heap-prof-dir', dir, '--heap-prof-name', `${name}.heapprofile`] : []);

/**
 * A private Prosody, the orchestrator and the agents, each in a process of its own as on a real
 * deployment; agents offer only the `noop` service. Everything is stopped through `stack`.
 */
export async function startOutpostCluster(options: ClusterOptions, stack: CleanupStack): Promise<OutpostCluster> {
  const { root, services } = await benchFolder(stack);

  const prosodyDir = path.join(root, 'prosody');
  const prosody = new PrivateProsody({ dir: prosodyDir, host: '127.0.0.1', domain: DOMAIN, logger: pino({ level: 'warn' }, pino.destination(2)) });
  stack.add('prosody', () => prosody.stop());
  await prosody.start();

  // The bench agents are one fleet: provisioned into one pool, they share the process they offer.
  const accounts = benchAccounts(options.agents, DOMAIN);
  const { orchestrator, process: orchestratorProcess, dataDir } = await startBenchOrchestrator({ root, xmpp: prosody, accounts, pingInterval: 15, cpuProfileDir: options.cpuProfileDir }, stack);

  const { agents, agentWorkDirs } = await startBenchAgents({ root, server: prosody, domain: DOMAIN, services, ...options }, stack);
  try {
    await orchestrator.request({ type: 'await-agents', processId: BENCH_PROCESS, count: options.agents, timeoutMs: 30_000 });
  } catch (error) {
    const said = agents.map((agent) => `${agent.name}: ${agent.output() || '(nothing)'}`).join('\n');
    throw new Error(`${(error as Error).message}\n${said}`);
  }
  const pid = (started: StartedProcess) => started.child.pid ?? 0;
  return {
    orchestrator,
    agents,
    dataDir,
    agentWorkDirs,
    cpuParts: {
      orchestrator: [pid(orchestratorProcess)],
      agents: agents.map(pid),
      prosody: childPidsMatching(prosodyDir),
      loadGenerator: ['self'],
    },
    memoryParts: { orchestrator: [pid(orchestratorProcess)], ...Object.fromEntries(agents.map((agent) => [agent.name, [pid(agent)]])) },
  };
}

export interface BenchOrchestratorOptions {
  root: string;
  /** The XMPP server's component listener the orchestrator connects to. */
  xmpp: Pick<PrivateProsody, 'componentService' | 'componentDomain' | 'componentSecret'>;
  /** Agent accounts recorded before the orchestrator starts, as `outpost agent add` would. */
  accounts: { jid: string; pool: string }[];
  /** Seconds between the liveness pings of each agent. */
  pingInterval: number;
  cpuProfileDir: string | undefined;
  heapProfileDir?: string | undefined;
}

/** The orchestrator in a process of its own, connected to `xmpp`, open to anonymous clients; stopped through `stack`. */
export async function startBenchOrchestrator(options: BenchOrchestratorOptions, stack: CleanupStack): Promise<{ orchestrator: OrchestratorClient; process: StartedProcess; dataDir: string }> {
  const { xmpp } = options;
  const config: BenchOrchestratorConfig = {
    host: '127.0.0.1',
    httpPort: 0,
    dataDir: path.join(options.root, 'orchestrator'),
    logLevel: 'warn',
    agentGrace: 30,
    pingInterval: options.pingInterval,
    // The load generator is one anonymous client; per-user limits would cap what is measured.
    anonymousRead: true,
    anonymousExecute: true,
    maxRunning: Number.MAX_SAFE_INTEGER,
    maxWaiting: Number.MAX_SAFE_INTEGER,
    xmppServer: xmpp.componentService,
    componentJid: xmpp.componentDomain,
    componentSecret: xmpp.componentSecret,
  };
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(path.join(config.dataDir, 'outpost.db'));
  await new AgentAccounts(db).addMany(options.accounts);
  db.close();
  const started = startProcess(
    'orchestrator',
    process.execPath,
    [...profileArgs(options.cpuProfileDir, 'orchestrator'), ...heapProfileArgs(options.heapProfileDir, 'orchestrator'), path.join(distBench, 'orchestrator-process.js')],
    { env: smallEnv({ [CONFIG_ENV]: JSON.stringify(config) }), ipc: true },
  );
  stack.add('orchestrator', () => started.stop());
  return { orchestrator: await OrchestratorClient.attach(started, 20_000), process: started, dataDir: config.dataDir };
}

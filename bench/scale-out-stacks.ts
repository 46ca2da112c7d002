import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { PrivateEjabberd } from '../dev/private-ejabberd.js';
import { freePort } from '../dev/free-port.js';
import { startPrivatePostgres } from '../dev/private-postgres.js';
import { PrivateProsody } from '../dev/private-prosody.js';
import { issueUserToken } from '../src/auth/token-command.js';
import { openCommandRecords } from '../src/store/open-stores.js';
import { smallEnv, startProcess, type StartedProcess } from './child-process.js';
import type { CleanupStack } from './cleanup.js';
import { HttpClient } from './http-client.js';
import { benchAccounts, benchFolder, profileArgs, startBenchAgents, type ClusterOptions } from './outpost-cluster.js';
import { childPidsMatching, pidsMatching } from './process-cpu.js';
import { repoRoot } from './paths.js';

const DOMAIN = 'bench.outpost';
const quiet = () => pino({ level: 'warn' }, pino.destination(2));

/** A stack as its HTTP clients see it: the instances' URLs, an admin token good on all of them, and its processes by part. */
export interface ServedStack {
  urls: string[];
  adminToken: string;
  agents: number;
  cpuParts: Record<string, (number | 'self')[]>;
  memoryParts: Record<string, number[]>;
}

interface ServeOptions {
  name: string;
  root: string;
  xmpp: { componentService: string; componentDomain: string; componentSecret: string };
  database?: string;
  cpuProfileDir: string | undefined;
}

/**
 * The bench agents' accounts and an admin token, recorded as `outpost agent add` and `outpost token
 * create` would: in the data directory's SQLite database, or with `database` in PostgreSQL.
 */
async function provision(dataDir: string, database: string | undefined, agents: number): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const records = await openCommandRecords(dataDir, database);
  try {
    await records.agentAccounts.addMany(benchAccounts(agents, DOMAIN));
    return (await issueUserToken(records.users, 'bench-admin', 'admin', null)).token;
  } finally {
    await records.close();
  }
}

/**
 * `outpost serve` as an operator runs it, in a process of its own. Open to anonymous clients:
 * per-user limits would cap what is measured.
 */
async function startServe(options: ServeOptions, stack: CleanupStack): Promise<{ process: StartedProcess; url: string }> {
  const dataDir = path.join(options.root, options.name);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const port = await freePort('127.0.0.1');
  const flags = {
    'xmpp-server': options.xmpp.componentService,
    'component-jid': options.xmpp.componentDomain,
    host: '127.0.0.1',
    'http-port': String(port),
    'data-dir': dataDir,
    'log-level': 'warn',
    'anonymous-read': 'true',
    'anonymous-execute': 'true',
    'max-running': String(Number.MAX_SAFE_INTEGER),
    'max-waiting': String(Number.MAX_SAFE_INTEGER),
    ...(options.database && { database: options.database }),
  };
  const args = [...profileArgs(options.cpuProfileDir, options.name), path.join(repoRoot, 'bin', 'outpost.js'), 'serve', ...Object.entries(flags).flatMap(([flag, value]) => [`--${flag}`, value])];
  const started = startProcess(options.name, process.execPath, args, { env: smallEnv({ OUTPOST_COMPONENT_SECRET: options.xmpp.componentSecret }) });
  stack.add(options.name, () => started.stop());
  const url = `http://127.0.0.1:${port}`;
  await untilReady(url, started);
  return { process: started, url };
}

async function untilReady(url: string, started: StartedProcess): Promise<void> {
  const client = new HttpClient(url, 1, 2000);
  try {
    for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 200))) {
      if (!started.isRunning()) throw new Error(`${started.name} exited: ${started.output()}`);
      const answer = await client.request('GET', '/healthz').catch(() => undefined);
      if (answer?.status === 200) return;
    }
    throw new Error(`${started.name} did not answer within 30 s: ${started.output()}`);
  } finally {
    client.close();
  }
}

const pid = (started: StartedProcess) => started.child.pid ?? 0;

/** One orchestrator on SQLite and a private Prosody: the embedded default, as `outpost serve` runs it. */
export async function singleStack(options: ClusterOptions, stack: CleanupStack): Promise<ServedStack> {
  const { root, services } = await benchFolder(stack);
  const prosodyDir = path.join(root, 'prosody');
  const prosody = new PrivateProsody({ dir: prosodyDir, host: '127.0.0.1', domain: DOMAIN, logger: quiet() });
  stack.add('prosody', () => prosody.stop());
  await prosody.start();
  const adminToken = await provision(path.join(root, 'orchestrator'), undefined, options.agents);
  const serve = await startServe({ name: 'orchestrator', root, xmpp: prosody, cpuProfileDir: options.cpuProfileDir }, stack);
  const { agents } = await startBenchAgents({ ...options, root, server: prosody, domain: DOMAIN, services }, stack);
  return {
    urls: [serve.url],
    adminToken,
    agents: options.agents,
    cpuParts: { orchestrators: [pid(serve.process)], xmppServer: childPidsMatching(prosodyDir), postgresql: [], agents: agents.map(pid), loadGenerator: ['self'] },
    memoryParts: { orchestrators: [pid(serve.process)], xmppServer: childPidsMatching(prosodyDir) },
  };
}

/** `instances` orchestrators on one private PostgreSQL and a private ejabberd, as docs/deploy.md's cluster. */
export async function clusterStack(options: ClusterOptions & { instances: number }, stack: CleanupStack): Promise<ServedStack> {
  const { root, services } = await benchFolder(stack);
  const postgres = await startPrivatePostgres();
  if ('reason' in postgres) throw new Error(postgres.reason);
  stack.add('postgresql', () => postgres.stop());
  const database = await postgres.createDatabase();
  const ejabberdDir = path.join(root, 'ejabberd');
  const ejabberd = new PrivateEjabberd({ dir: ejabberdDir, domain: DOMAIN, logger: quiet(), componentSecret: randomBytes(24).toString('base64url') });
  stack.add('ejabberd', () => ejabberd.stop());
  await ejabberd.start();
  const adminToken = await provision(path.join(root, 'orchestrator-1'), database, options.agents);
  const served = [];
  for (let i = 1; i <= options.instances; i++) {
    served.push(await startServe({ name: `orchestrator-${i}`, root, xmpp: ejabberd, database, cpuProfileDir: options.cpuProfileDir }, stack));
  }
  const { agents } = await startBenchAgents({ ...options, root, server: ejabberd, domain: DOMAIN, services }, stack);
  const orchestrators = served.map(({ process }) => pid(process));
  return {
    urls: served.map(({ url }) => url),
    adminToken,
    agents: options.agents,
    cpuParts: { orchestrators, xmppServer: childPidsMatching(ejabberdDir), postgresql: pidsMatching(postgres.dir), agents: agents.map(pid), loadGenerator: ['self'] },
    memoryParts: { orchestrators, xmppServer: childPidsMatching(ejabberdDir), postgresql: pidsMatching(postgres.dir) },
  };
}

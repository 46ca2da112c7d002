import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { smallEnv, startProcess, type StartedProcess } from './child-process.js';
import { CleanupStack, stopOnSignals } from './cleanup.js';
import { fleetMeasurements } from './fleet-measurements.js';
import { loadFleetParams, FLEET_USAGE, type FleetParams } from './fleet-params.js';
import type { FleetReport, FleetShare } from './fleet-process.js';
import { startFleetXmppServer, type FleetXmppServer } from './fleet-xmpp-server.js';
import { machineFacts } from './machine.js';
import { paramsOrExit } from './params.js';
import { profileArgs, startBenchOrchestrator } from './outpost-cluster.js';
import { distBench } from './paths.js';
import { CpuMeter } from './process-cpu.js';
import { RssSampler } from './process-memory.js';

/*
 * `npm run bench:fleet`: a private XMPP server (Prosody or ejabberd), the orchestrator and a fleet
 * of simulated agents, each part in a process of its own; how long the fleet takes to settle, what
 * reads and executions cost while it is connected, and what each part used. One JSON document goes
 * to stdout; notes to stderr.
 */

const DOMAIN = 'fleet.outpost';
const POOL = 'fleet';
const note = (text: string) => process.stderr.write(`bench:fleet: ${text}\n`);
const seconds = (ms: number) => Math.round(ms) / 1000;
const cpuSeconds = (usage: Map<string, number>) => Object.fromEntries([...usage].map(([name, ms]) => [name, seconds(ms)]));

/** The fleet's processes, each with its share of the accounts; their latest reports by index. */
function startFleet(params: FleetParams, xmpp: FleetXmppServer, accounts: FleetShare['accounts'], stack: CleanupStack) {
  const reports: (FleetReport | undefined)[] = [];
  const workers: StartedProcess[] = [];
  for (let w = 0; w < params.fleetWorkers; w++) {
    const worker = startProcess(`fleet-${w + 1}`, process.execPath, [...profileArgs(params.cpuProfileDir, `fleet-${w + 1}`), path.join(distBench, 'fleet-process.js')], {
      env: smallEnv(),
      ipc: true,
    });
    stack.add(worker.name, () => worker.stop());
    worker.child.on('message', (report: FleetReport) => (reports[w] = report));
    const share: FleetShare = {
      type: 'start',
      host: xmpp.host,
      port: xmpp.c2sPort,
      domain: DOMAIN,
      accounts: accounts.filter((_, i) => i % params.fleetWorkers === w),
      processes: params.processes,
      ids: params.ids,
      pingIntervalMs: params.agentPingInterval * 1000,
      loginConcurrency: params.loginConcurrency,
      loginTimeoutMs: params.settleTimeout * 1000,
    };
    worker.child.send(share);
    workers.push(worker);
  }
  const total = () => {
    const sum = { online: 0, failed: 0, firstError: undefined as string | undefined, loggedInMs: 0 as number | undefined, catalogRequests: 0, executes: 0, disconnects: 0, rssBytes: 0 };
    for (let w = 0; w < params.fleetWorkers; w++) {
      const report = reports[w];
      if (!report) return { ...sum, loggedInMs: undefined };
      sum.online += report.online;
      sum.failed += report.failed;
      sum.firstError ??= report.firstError;
      sum.loggedInMs = report.loggedInMs === undefined || sum.loggedInMs === undefined ? undefined : Math.max(sum.loggedInMs, report.loggedInMs);
      sum.catalogRequests += report.counters.catalogRequests;
      sum.executes += report.counters.executes;
      sum.disconnects += report.counters.disconnects;
      sum.rssBytes += report.rssBytes;
    }
    return sum;
  };
  return { workers, total };
}

async function run(params: FleetParams, stack: CleanupStack): Promise<Record<string, unknown>> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'outpost-fleet-'));
  stack.add('temp dir', () => rm(root, { recursive: true, force: true }));
  const xmpp = await startFleetXmppServer(params.xmppServer, path.join(root, params.xmppServer), DOMAIN, stack);

  const width = String(params.agents).length;
  const accounts = Array.from({ length: params.agents }, (_, i) => ({ username: `fleet-${String(i + 1).padStart(width, '0')}`, password: randomBytes(12).toString('base64url') }));
  note(`provisioning ${params.agents} accounts in the running ${xmpp.name}`);
  const provisionStart = performance.now();
  await xmpp.registerAccounts(accounts);
  const provisionMs = performance.now() - provisionStart;

  const { orchestrator, process: orchestratorProcess } = await startBenchOrchestrator(
    { root, xmpp, accounts: accounts.map(({ username }) => ({ jid: `${username}@${DOMAIN}`, pool: POOL })), pingInterval: params.pingInterval, cpuProfileDir: params.cpuProfileDir, heapProfileDir: params.heapProfileDir },
    stack,
  );
  note(`${params.agents} agents × ${params.processes} processes (${params.ids} ids) logging in from ${params.fleetWorkers} process(es)`);
  const settleStart = performance.now();
  const fleet = startFleet(params, xmpp, accounts, stack);
  const pid = (started: StartedProcess) => started.child.pid ?? 0;
  const parts = { orchestrator: [pid(orchestratorProcess)], xmpp: xmpp.pids(), fleet: fleet.workers.map(pid) };
  const rss = new RssSampler(parts);
  const settleCpu = new CpuMeter(parts);
  settleCpu.start();
  await orchestrator.request({ type: 'health' });

  let status = { online: 0, catalogsCurrent: 0 };
  const deadline = settleStart + params.settleTimeout * 1000;
  while (status.catalogsCurrent < params.agents) {
    const { failed, firstError } = fleet.total();
    if (failed > 0) throw new Error(`${failed} agents could not log in: ${firstError}`);
    if (performance.now() > deadline) {
      const said = orchestratorProcess.output().split('\n').slice(-5).join('\n');
      throw new Error(`not settled after ${params.settleTimeout} s: ${status.online} agents online, ${status.catalogsCurrent} with their catalog; the orchestrator's last words:\n${said}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
    status = await orchestrator.request({ type: 'fleet-status' });
  }
  const settleMs = performance.now() - settleStart;
  const settleCpuMs = settleCpu.stop();
  const settledMiB = rss.current();
  const settleHealth = await orchestrator.request({ type: 'health' });
  const loggedIn = fleet.total().loggedInMs;
  note(`settled in ${seconds(settleMs)} s (all logged in after ${loggedIn === undefined ? '?' : seconds(loggedIn)} s)`);

  const connectedCpu = new CpuMeter(parts);
  connectedCpu.start();
  let readsHealth: unknown;
  let executionsFrom = '';
  const readsDone = async () => {
    readsHealth = await orchestrator.request({ type: 'health' });
    executionsFrom = new Date().toISOString();
  };
  const measured = await fleetMeasurements(orchestrator.url, params, accounts.map(({ username }) => username), note, readsDone);
  const connectedCpuMs = connectedCpu.stop();
  const executionsHealth = await orchestrator.request({ type: 'health' });
  const { queuedMs, runningMs } = await orchestrator.request({ type: 'job-timings', since: executionsFrom });
  const fleetTotal = fleet.total();
  const catalogRequests = fleetTotal.catalogRequests;
  return {
    settle: {
      seconds: seconds(settleMs),
      allLoggedInSeconds: loggedIn === undefined ? null : seconds(loggedIn),
      meaning: 'from the first login until every agent is registered with the catalog its presence names',
    },
    provisioningSeconds: seconds(provisionMs),
    ...measured,
    catalogRequests: {
      received: catalogRequests,
      percentOfAgents: Math.round((catalogRequests / params.agents) * 10_000) / 100,
      meaning: '`catalog-request` messages the simulated agents received, settle and connected phases together',
    },
    fleetState: { online: fleetTotal.online, disconnects: fleetTotal.disconnects, executesReceived: fleetTotal.executes },
    xmppServerSetup: xmpp.setup,
    memory: { ...rss.report(), settledMiB },
    cpuSeconds: { settle: cpuSeconds(settleCpuMs), connected: cpuSeconds(connectedCpuMs) },
    orchestratorHealth: { settle: settleHealth, reads: readsHealth, executions: executionsHealth },
    // As the orchestrator recorded them: submitted → running (execute out, the agent's first answer in), running → finished.
    executionSteps: { queuedMs, runningMs },
  };
}

/** What the figures depend on besides the flags. */
const SETUP = {
  login: 'agents log in with SASL SCRAM-SHA-1, with the iteration count the server stores',
  layout: 'the XMPP server, the orchestrator, each fleet process and the HTTP load generator run as separate processes on this machine',
  agent: 'simulated (bench/simulated-agent.ts): its own account and XMPP session each; announce, pings both ways, presence after each answered ping, execute answered with accepted + completed at once',
};

async function main(): Promise<void> {
  const params = paramsOrExit('bench:fleet', process.argv.slice(2), (argv) => loadFleetParams(argv, process.env), FLEET_USAGE);
  const stack = new CleanupStack();
  stopOnSignals(stack);
  const report: Record<string, unknown> = { machine: machineFacts(), parameters: { ...params, ...SETUP } };
  try {
    report['fleet'] = await run(params, stack);
  } catch (error) {
    process.exitCode = 1;
    note(`failed: ${(error as Error).message}`);
    report['fleet'] = { error: (error as Error).message };
  } finally {
    await stack.run();
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

await main();

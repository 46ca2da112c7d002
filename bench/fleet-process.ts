import type { ProcessSpec } from '../protocol/index.js';
import { SimulatedAgent, type AgentCounters } from './simulated-agent.js';

/*
 * One process of simulated agents (bench/fleet.ts starts one or a few): logs its share of the
 * fleet in, a bounded number at a time, and reports what the agents saw every half second.
 */

export type IdScheme = 'shared' | 'distinct';

export interface FleetShare {
  type: 'start';
  host: string;
  port: number;
  domain: string;
  accounts: { username: string; password: string }[];
  processes: number;
  ids: IdScheme;
  pingIntervalMs: number;
  loginConcurrency: number;
  loginTimeoutMs: number;
}

export interface FleetReport {
  type: 'report';
  online: number;
  failed: number;
  firstError: string | undefined;
  /** Milliseconds from the start message until the last agent of this share was online. */
  loggedInMs: number | undefined;
  counters: AgentCounters;
  rssBytes: number;
}

export const fleetProcessId = (ids: IdScheme, username: string, index: number) => (ids === 'shared' ? `fleet-${index}` : `${username}-${index}`);

/** A trivial process: no inputs, one text output that the simulated agent fills at once. */
function catalog(ids: IdScheme, username: string, count: number): ProcessSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    id: fleetProcessId(ids, username, i + 1),
    title: `Fleet process ${i + 1}`,
    description: 'Answered at once by a simulated agent of the fleet bench.',
    keywords: ['bench'],
    version: '1.0.0',
    inputs: {},
    outputs: { text: { type: 'string' as const, mediaType: 'text/plain' } },
    maxParallel: 4,
    file: `fleet-${i + 1}.properties`,
  }));
}

async function run(share: FleetShare): Promise<void> {
  const counters: AgentCounters = { catalogRequests: 0, executes: 0, acks: 0, pingsAnswered: 0, orchestratorPingsAnswered: 0, presences: 0, disconnects: 0 };
  const agents: SimulatedAgent[] = [];
  const started = Date.now();
  let online = 0;
  let failed = 0;
  let firstError: string | undefined;
  let loggedInMs: number | undefined;
  const report = (): void =>
    void process.send?.({ type: 'report', online, failed, firstError, loggedInMs, counters, rssBytes: process.memoryUsage.rss() } satisfies FleetReport);
  const reporter = setInterval(report, 500);
  const stop = () => {
    clearInterval(reporter);
    for (const agent of agents) agent.stop();
    process.exit(0);
  };
  process.once('disconnect', stop);
  process.once('SIGTERM', stop);

  let next = 0;
  const loginWorker = async () => {
    while (next < share.accounts.length) {
      const { username, password } = share.accounts[next++]!;
      const options = { host: share.host, port: share.port, domain: share.domain, username, password, pingIntervalMs: share.pingIntervalMs };
      const agent = new SimulatedAgent({ ...options, processes: catalog(share.ids, username, share.processes) }, counters);
      agents.push(agent);
      try {
        await agent.start(share.loginTimeoutMs);
        online++;
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(share.loginConcurrency, share.accounts.length) }, loginWorker));
  loggedInMs = Date.now() - started;
  report();
}

process.once('message', (share: FleetShare) => void run(share));

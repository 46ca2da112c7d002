import { parseArgs } from 'node:util';
import type { IdScheme } from './fleet-process.js';
import { count } from './params.js';

export const XMPP_SERVERS = ['prosody', 'ejabberd'] as const;
export type XmppServerName = (typeof XMPP_SERVERS)[number];

export interface FleetParams {
  /** The private XMPP server the fleet and the orchestrator connect to. */
  xmppServer: XmppServerName;
  agents: number;
  /** Processes in each agent's catalog. */
  processes: number;
  /** `distinct`: every agent offers ids of its own (agents × processes ids); `shared`: the pool offers the same ids. */
  ids: IdScheme;
  /** Processes the simulated agents are spread over. */
  fleetWorkers: number;
  /** Logins in flight at once in each fleet process. */
  loginConcurrency: number;
  /** The orchestrator's `--ping-interval`, seconds. */
  pingInterval: number;
  /** How often each agent pings the orchestrator and refreshes its presence, seconds (the reference agent: 10). */
  agentPingInterval: number;
  settleTimeout: number;
  /** Requests of each read measured after settling. */
  requests: number;
  /** Length of the execution phase, seconds; at least two ping intervals. */
  executeSeconds: number;
  cpuProfileDir: string | undefined;
  heapProfileDir: string | undefined;
}

const FLAGS = {
  'xmpp-server': { env: 'BENCH_FLEET_XMPP_SERVER', default: 'prosody' },
  agents: { env: 'BENCH_FLEET_AGENTS', default: '100' },
  processes: { env: 'BENCH_FLEET_PROCESSES', default: '10' },
  ids: { env: 'BENCH_FLEET_IDS', default: 'distinct' },
  'fleet-workers': { env: 'BENCH_FLEET_WORKERS', default: '1' },
  'login-concurrency': { env: 'BENCH_FLEET_LOGIN_CONCURRENCY', default: '50' },
  'ping-interval': { env: 'BENCH_FLEET_PING_INTERVAL', default: '15' },
  'agent-ping-interval': { env: 'BENCH_FLEET_AGENT_PING_INTERVAL', default: '10' },
  'settle-timeout': { env: 'BENCH_FLEET_SETTLE_TIMEOUT', default: '300' },
  requests: { env: 'BENCH_FLEET_REQUESTS', default: '200' },
  'execute-seconds': { env: 'BENCH_FLEET_EXECUTE_SECONDS', default: '(2 ping intervals + 5)' },
  'cpu-prof': { env: 'BENCH_FLEET_CPU_PROF', default: '' },
  'heap-prof': { env: 'BENCH_FLEET_HEAP_PROF', default: '' },
} as const;

export const FLEET_USAGE = `usage: npm run bench:fleet -- [flags]   (each flag also as the environment variable shown)
${Object.entries(FLAGS)
  .map(([flag, { env, default: value }]) => `  --${flag.padEnd(20)} ${env.padEnd(32)} default ${value || '(off)'}`)
  .join('\n')}`;

/** Flags, then BENCH_FLEET_* environment variables, then defaults for a run of about a minute. */
export function loadFleetParams(argv: string[], env: NodeJS.ProcessEnv): FleetParams {
  const options = Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }]));
  const { values } = parseArgs({ args: argv, options, strict: true });
  const given = (flag: keyof typeof FLAGS): string | undefined => (values[flag] as string | undefined) ?? env[FLAGS[flag].env];
  const pick = (flag: keyof typeof FLAGS): string => given(flag) ?? FLAGS[flag].default;
  const ids = pick('ids');
  if (ids !== 'distinct' && ids !== 'shared') throw new Error(`--ids must be 'distinct' or 'shared' (got '${ids}')`);
  const xmppServer = pick('xmpp-server');
  if (!XMPP_SERVERS.includes(xmppServer as XmppServerName)) throw new Error(`--xmpp-server must be ${XMPP_SERVERS.map((name) => `'${name}'`).join(' or ')} (got '${xmppServer}')`);
  const pingInterval = count('ping-interval', pick('ping-interval'), 1, 3600);
  const executeSeconds = given('execute-seconds');
  return {
    xmppServer: xmppServer as XmppServerName,
    agents: count('agents', pick('agents'), 1, 50_000),
    processes: count('processes', pick('processes'), 1, 100),
    ids,
    fleetWorkers: count('fleet-workers', pick('fleet-workers'), 1, 16),
    loginConcurrency: count('login-concurrency', pick('login-concurrency'), 1, 10_000),
    pingInterval,
    agentPingInterval: count('agent-ping-interval', pick('agent-ping-interval'), 1, 3600),
    settleTimeout: count('settle-timeout', pick('settle-timeout'), 1, 3600),
    requests: count('requests', pick('requests'), 1, 100_000),
    executeSeconds: executeSeconds === undefined ? 2 * pingInterval + 5 : count('execute-seconds', executeSeconds, 2 * pingInterval, 3600),
    cpuProfileDir: pick('cpu-prof') || undefined,
    heapProfileDir: pick('heap-prof') || undefined,
  };
}

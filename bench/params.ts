import os from 'node:os';
import { parseArgs } from 'node:util';

export interface BenchParams {
  /**
   * `compare`: Outpost's figures, then the peer's; `soak`: many jobs through one stack, watching its
   * resources; `scale-out`: `instances` orchestrators on PostgreSQL + ejabberd against one on SQLite + Prosody.
   */
  scenario: 'compare' | 'soak' | 'scale-out';
  /** Orchestrators of the scale-out scenario's cluster. */
  instances: number;
  /** Jobs run by the soak scenario. */
  soakJobs: number;
  /** Sync executions measured (after the warm-up). */
  syncJobs: number;
  /** Async jobs submitted, then awaited. */
  asyncJobs: number;
  /** Requests (or peer tasks) in flight at once. */
  concurrency: number;
  /** Untimed jobs run first on each system, so connections, caches and pools are warm. */
  warmup: number;
  /** Each measured phase stops after this many seconds even if not all jobs were issued. */
  phaseSeconds: number;
  agents: number;
  slotsPerAgent: number;
  /** Celery prefork pool size; by default the total of Outpost's slots, so both sides run as many jobs at once. */
  peerWorkers: number;
  peer: 'celery' | 'none';
  /** Async jobs of the deep-queue scenario (0 skips it), from `deepUsers` users, bounded by `deepSeconds`. */
  deepJobs: number;
  deepUsers: number;
  deepSeconds: number;
  /** Rounds of the comparison; each runs both systems, first one then the other, the order swapping every round. */
  rounds: number;
  /** When set, the orchestrator and agents write V8 CPU profiles here. */
  cpuProfileDir: string | undefined;
}

const FLAGS = {
  scenario: { env: 'BENCH_SCENARIO', default: 'compare' },
  instances: { env: 'BENCH_INSTANCES', default: '2' },
  'soak-jobs': { env: 'BENCH_SOAK_JOBS', default: '100000' },
  'sync-jobs': { env: 'BENCH_SYNC_JOBS', default: '2000' },
  'async-jobs': { env: 'BENCH_ASYNC_JOBS', default: '2000' },
  concurrency: { env: 'BENCH_CONCURRENCY', default: '8' },
  warmup: { env: 'BENCH_WARMUP', default: '3000' },
  'phase-seconds': { env: 'BENCH_PHASE_SECONDS', default: '30' },
  agents: { env: 'BENCH_AGENTS', default: '2' },
  slots: { env: 'BENCH_SLOTS', default: String(os.availableParallelism()) },
  'peer-workers': { env: 'BENCH_PEER_WORKERS', default: '', shown: 'agents × slots' },
  peer: { env: 'BENCH_PEER', default: 'celery' },
  'deep-jobs': { env: 'BENCH_DEEP_JOBS', default: '10000' },
  'deep-users': { env: 'BENCH_DEEP_USERS', default: '20' },
  'deep-seconds': { env: 'BENCH_DEEP_SECONDS', default: '300' },
  rounds: { env: 'BENCH_ROUNDS', default: '3' },
  'cpu-prof': { env: 'BENCH_CPU_PROF', default: '' },
} as const;

export const USAGE = `usage: npm run bench -- [flags]   (each flag also as the environment variable shown;
--slots is per agent and defaults to the number of cores)
${Object.entries(FLAGS)
  .map(([flag, entry]) => `  --${flag.padEnd(14)} ${entry.env.padEnd(20)} default ${'shown' in entry ? entry.shown : entry.default || '(off)'}`)
  .join('\n')}`;

export function count(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} must be an integer from ${min} to ${max} (got '${raw}')`);
  return value;
}

/** Flags, then BENCH_* environment variables, then defaults small enough for a run of a few minutes. */
export function loadParams(argv: string[], env: NodeJS.ProcessEnv): BenchParams {
  const options = Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }]));
  const { values } = parseArgs({ args: argv, options, strict: true });
  const pick = (flag: keyof typeof FLAGS): string => (values[flag] as string | undefined) ?? env[FLAGS[flag].env] ?? FLAGS[flag].default;
  const peer = pick('peer');
  if (peer !== 'celery' && peer !== 'none') throw new Error(`--peer must be 'celery' or 'none' (got '${peer}')`);
  const scenario = pick('scenario');
  if (scenario !== 'compare' && scenario !== 'soak' && scenario !== 'scale-out') throw new Error(`--scenario must be 'compare', 'soak' or 'scale-out' (got '${scenario}')`);
  const agents = count('agents', pick('agents'), 1, 64);
  const slotsPerAgent = count('slots', pick('slots'), 1, 1024);
  return {
    scenario,
    instances: count('instances', pick('instances'), 1, 8),
    soakJobs: count('soak-jobs', pick('soak-jobs'), 1, 10_000_000),
    syncJobs: count('sync-jobs', pick('sync-jobs'), 1, 1_000_000),
    asyncJobs: count('async-jobs', pick('async-jobs'), 1, 100_000),
    concurrency: count('concurrency', pick('concurrency'), 1, 1000),
    warmup: count('warmup', pick('warmup'), 0, 100_000),
    phaseSeconds: count('phase-seconds', pick('phase-seconds'), 1, 600),
    agents,
    slotsPerAgent,
    peerWorkers: count('peer-workers', pick('peer-workers') || String(agents * slotsPerAgent), 1, 1024),
    peer,
    deepJobs: count('deep-jobs', pick('deep-jobs'), 0, 1_000_000),
    deepUsers: count('deep-users', pick('deep-users'), 1, 10_000),
    deepSeconds: count('deep-seconds', pick('deep-seconds'), 1, 3600),
    rounds: count('rounds', pick('rounds'), 1, 20),
    cpuProfileDir: pick('cpu-prof') || undefined,
  };
}

/** `--help` prints the usage and exits; else the parameters, or exit code 2 with the problem and the usage. */
export function paramsOrExit<T>(label: string, argv: string[], load: (argv: string[]) => T, usage: string): T {
  if (argv.includes('--help')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    return load(argv);
  } catch (error) {
    process.stderr.write(`${label}: ${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { closedLoop } from './closed-loop.js';
import { HttpClient } from './http-client.js';
import type { OutpostCluster } from './outpost-cluster.js';
import { executeSync } from './outpost-scenarios.js';
import type { BenchParams } from './params.js';
import { CpuMeter, cpuReport } from './process-cpu.js';
import { perSecond } from './stats.js';

/** Resources are sampled this many times during the run, besides before and after. */
const CHECKPOINTS = 10;
/** Pause after the last job, so acknowledgements, timers and the WAL checkpoint have run. */
const SETTLE_MS = 5000;

interface ProcessFootprint {
  pids: number[];
  rssBytes: number;
  openFds: number;
}

interface DirectoryFootprint {
  files: number;
  bytes: number;
}

export interface Footprint {
  processes: Record<string, ProcessFootprint>;
  /** The orchestrator's SQLite database: main file, write-ahead log and its index. */
  database: { dbBytes: number; walBytes: number; shmBytes: number };
  directories: Record<string, DirectoryFootprint>;
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return Number(kib ?? 0) * 1024;
}

function processFootprint(pids: number[]): ProcessFootprint {
  let rss = 0;
  let fds = 0;
  for (const pid of pids) {
    rss += rssBytes(pid);
    fds += readdirSync(`/proc/${pid}/fd`).length;
  }
  return { pids, rssBytes: rss, openFds: fds };
}

const sizeOf = (file: string) => {
  try {
    return statSync(file).size;
  } catch {
    return 0; // not there (yet)
  }
};

function directoryFootprint(dir: string): DirectoryFootprint {
  const total = { files: 0, bytes: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    total.files++;
    total.bytes += sizeOf(path.join(entry.parentPath, entry.name));
  }
  return total;
}

/** Memory and descriptors of every process of the stack, and what it keeps on disk. */
export function footprint(cluster: OutpostCluster): Footprint {
  const parts: [string, number[]][] = [
    ['orchestrator', [cluster.orchestrator.started.child.pid ?? 0]],
    ...cluster.agents.map((agent): [string, number[]] => [agent.name, [agent.child.pid ?? 0]]),
    ['prosody', cluster.cpuParts['prosody'] as number[]],
  ];
  const database = path.join(cluster.dataDir, 'outpost.db');
  return {
    processes: Object.fromEntries(parts.map(([name, pids]) => [name, processFootprint(pids)])),
    database: { dbBytes: sizeOf(database), walBytes: sizeOf(`${database}-wal`), shmBytes: sizeOf(`${database}-shm`) },
    directories: {
      orchestrator: directoryFootprint(cluster.dataDir),
      ...Object.fromEntries(Object.entries(cluster.agentWorkDirs).map(([name, dir]) => [name, directoryFootprint(dir)])),
    },
  };
}

const MIB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

/** One line: RSS and descriptors of each process, and the database's size. */
function summary({ processes, database }: Footprint): string {
  const parts = Object.entries(processes).map(([name, { rssBytes, openFds }]) => `${name} ${mib(rssBytes)} ${openFds} fds`);
  return `${parts.join(', ')}; database ${mib(database.dbBytes)} + WAL ${mib(database.walBytes)}`;
}

/** After minus before, for every figure of a footprint: leaks show as growth that does not level off. */
function growth(before: Footprint, after: Footprint) {
  const diff = <T extends object>(a: T, b: T) =>
    Object.fromEntries(
      Object.entries(b)
        .filter(([, value]) => typeof value === 'number')
        .map(([key, value]) => [key, (value as number) - (a[key as keyof T] as number)]),
    );
  return {
    processes: Object.fromEntries(Object.entries(after.processes).map(([name, now]) => [name, diff(before.processes[name]!, now)])),
    database: diff(before.database, after.database),
    directories: Object.fromEntries(Object.entries(after.directories).map(([name, now]) => [name, diff(before.directories[name]!, now)])),
  };
}

/**
 * `soakJobs` trivial sync jobs, in `CHECKPOINTS` equal rounds, through one running stack; the
 * footprint is taken before, after each round, and after a pause at the end.
 */
export async function soakScenario(cluster: OutpostCluster, params: BenchParams, note: (text: string) => void) {
  const client = new HttpClient(cluster.orchestrator.url, params.concurrency);
  try {
    const before = footprint(cluster);
    const checkpoints = [];
    let done = 0;
    for (let round = 1; round <= CHECKPOINTS; round++) {
      const count = Math.round((params.soakJobs * round) / CHECKPOINTS) - done;
      const cpu = new CpuMeter(cluster.cpuParts);
      cpu.start();
      const run = await closedLoop({ count, concurrency: params.concurrency, timeLimitMs: Number.POSITIVE_INFINITY, operation: () => executeSync(client) });
      done += count;
      const jobsPerSecond = perSecond(run.completed, run.elapsedMs);
      // CPU per job that grows from round to round is work that grows with the jobs kept; a busy machine only lowers jobs/s.
      const cpuUsed = cpuReport(cpu.stop(), run.completed, run.elapsedMs);
      checkpoints.push({ jobs: done, errors: run.errors, firstError: run.firstError, jobsPerSecond, cpu: cpuUsed, footprint: footprint(cluster) });
      note(`  ${done} jobs, ${jobsPerSecond} jobs/s and ${cpuUsed.cpuMsPerJob['total']} CPU ms per job in this round, ${run.errors} errors; ${summary(checkpoints.at(-1)!.footprint)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const after = footprint(cluster);
    const errors = checkpoints.reduce((sum, checkpoint) => sum + checkpoint.errors, 0);
    return { jobs: done, errors, settleMs: SETTLE_MS, before, after, growth: growth(before, after), checkpoints };
  } finally {
    client.close();
  }
}

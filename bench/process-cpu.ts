import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** Linux reports process times in clock ticks; 100 per second on every mainstream kernel build. */
const TICKS_PER_SECOND = 100;

interface ProcessTimes {
  ppid: number;
  /** Own CPU plus that of children it has reaped (utime + stime + cutime + cstime). */
  ms: number;
}

function readTimes(pid: string): ProcessTimes | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return { ppid: Number(fields[1]), ms: (ticks * 1000) / TICKS_PER_SECOND };
}

function snapshot(): Map<number, ProcessTimes> {
  const all = new Map<number, ProcessTimes>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const times = readTimes(entry);
    if (times) all.set(Number(entry), times);
  }
  return all;
}

function isUnder(all: Map<number, ProcessTimes>, pid: number, root: number): boolean {
  for (let up = pid; up > 1; up = all.get(up)?.ppid ?? 0) if (up === root) return true;
  return false;
}

/** CPU milliseconds of `root` and every live descendant (whose reaped children are counted by it). */
function treeMs(all: Map<number, ProcessTimes>, root: number): number {
  let total = 0;
  for (const [pid, times] of all) if (isUnder(all, pid, root)) total += times.ms;
  return total;
}

/** This process's own CPU, without its children (those are measured as trees of their own). */
const selfMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

export type CpuUsage = Map<string, number>;
export type CpuReport = { cpuMsPerJob: Record<string, number>; busyShareOfCores: number };

/**
 * CPU used by named process trees between `start` and `stop`: where a system spends its cycles.
 * `self` stands for the benchmark's own process (the load generator).
 */
export class CpuMeter {
  #before: CpuUsage = new Map();

  constructor(private readonly parts: Record<string, (number | 'self')[]>) {}

  #measure(): CpuUsage {
    const all = snapshot();
    const partMs = (pids: (number | 'self')[]) => pids.reduce<number>((sum, pid) => sum + (pid === 'self' ? selfMs() : treeMs(all, pid)), 0);
    return new Map(Object.entries(this.parts).map(([name, pids]) => [name, partMs(pids)]));
  }

  start(): void {
    this.#before = this.#measure();
  }

  /** CPU ms used by each part since `start`. */
  stop(): CpuUsage {
    const after = this.#measure();
    return new Map([...after].map(([name, ms]) => [name, ms - (this.#before.get(name) ?? 0)]));
  }
}

const per = (ms: number, jobs: number) => (jobs > 0 ? Math.round((ms / jobs) * 1000) / 1000 : 0);

/** CPU ms per job by part and in total, and the share of all cores the parts kept busy. */
export function cpuReport(usage: CpuUsage, jobs: number, elapsedMs: number): CpuReport {
  const total = [...usage.values()].reduce((sum, ms) => sum + ms, 0);
  return {
    cpuMsPerJob: { ...Object.fromEntries([...usage].map(([name, ms]) => [name, per(ms, jobs)])), total: per(total, jobs) },
    busyShareOfCores: Math.round((total / elapsedMs / os.availableParallelism()) * 100) / 100,
  };
}

const commandLineHas = (pid: number, needle: string) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
  } catch {
    return false;
  }
};

/** Pids of live descendants of this process whose command line contains `needle`. */
export function childPidsMatching(needle: string): number[] {
  const all = snapshot();
  return [...all.keys()].filter((pid) => pid !== process.pid && isUnder(all, pid, process.pid) && commandLineHas(pid, needle));
}

/** Pids of live processes whose command line contains `needle`, whoever started them: daemons such as PostgreSQL's postmaster. */
export function pidsMatching(needle: string): number[] {
  return [...snapshot().keys()].filter((pid) => pid !== process.pid && commandLineHas(pid, needle));
}
